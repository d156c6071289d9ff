/**
 * The system BLAS through FFI (koffi): OpenBLAS on Linux, Accelerate on macOS.
 * Only `cblas_sgemm` is used. Buffers are passed as Float32Array views into the shared
 * WebAssembly memory; koffi pins them for the call (about 0.2 µs per call).
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export type SgemmFn = (
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  beta: number,
  C: Float32Array,
  ldc: number,
) => void;

export interface Blas {
  /** Library path that was loaded. */
  path: string;
  sgemm: SgemmFn;
  /** Sets the BLAS thread count (no-op where the library has no such call). */
  setThreads(n: number): void;
}

const CANDIDATES: Record<string, string[]> = {
  linux: [
    "libopenblas.so.0",
    "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
    "libopenblas.so",
  ],
  darwin: ["/System/Library/Frameworks/Accelerate.framework/Accelerate"],
};

let cached: Blas | null | undefined;
let idleSpin = 4;

/**
 * Chooses, before the library loads, how long OpenBLAS's idle threads spin after a call before
 * they sleep. "train" (the default): 2^4 cycles. Their default of 2^28 (about 0.1 s) takes a core
 * from our kernel threads between matmuls: a reference training step took 1441 ms with it and
 * 1107 ms without. "decode": OpenBLAS's default, because generation calls sgemv every 30 µs
 * or so and waking a sleeping thread each time made batch-1 decoding 1.8× slower.
 * An OPENBLAS_THREAD_TIMEOUT set by the user wins over both.
 */
export function setBlasIdleSpin(workload: "train" | "decode"): void {
  idleSpin = workload === "decode" ? 28 : 4;
}

/** Loads the system BLAS, or returns null (with the reason in `blasError`) if none loads. */
export function loadBlas(): Blas | null {
  if (cached !== undefined) return cached;
  cached = null;
  let koffi: typeof import("koffi");
  try {
    koffi = require("koffi");
  } catch (e) {
    blasError = `koffi did not load: ${(e as Error).message}`;
    return null;
  }
  const paths = process.env.CHATFORGE_BLAS_LIB
    ? [process.env.CHATFORGE_BLAS_LIB]
    : (CANDIDATES[process.platform] ?? []);
  for (const path of paths) {
    let lib: ReturnType<typeof koffi.load>;
    // how long idle OpenBLAS threads spin (read when the library loads; see setBlasIdleSpin)
    const timeout = process.env.OPENBLAS_THREAD_TIMEOUT;
    if (timeout === undefined) process.env.OPENBLAS_THREAD_TIMEOUT = String(idleSpin);
    try {
      lib = koffi.load(path);
    } catch {
      continue;
    } finally {
      if (timeout === undefined) delete process.env.OPENBLAS_THREAD_TIMEOUT;
    }
    try {
      const raw = lib.func(
        "void cblas_sgemm(int, int, int, int, int, int, float, float *, int, float *, int, float, float *, int)",
      );
      let setThreads: (n: number) => void = () => {};
      try {
        const f = lib.func("void openblas_set_num_threads(int)");
        setThreads = (n: number) => f(n);
      } catch {
        // Accelerate: threads follow VECLIB_MAXIMUM_THREADS
      }
      const sgemm: SgemmFn = (tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) =>
        raw(101, tA ? 112 : 111, tB ? 112 : 111, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      cached = { path, sgemm, setThreads };
      return cached;
    } catch (e) {
      blasError = `${path} has no cblas_sgemm: ${(e as Error).message}`;
    }
  }
  if (!blasError) blasError = `no BLAS library found (tried ${paths.join(", ")})`;
  return null;
}

export let blasError = "";
