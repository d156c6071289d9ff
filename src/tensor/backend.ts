/**
 * Matmul backends and their selection.
 *
 * - `blas`: the system BLAS (OpenBLAS/Accelerate) through koffi. Fastest where present.
 * - `wasm`: our own WebAssembly SIMD kernel, spread over worker threads. Portable.
 * - `js`:   plain loops; only for tests and as the last resort.
 *
 * The choice is automatic (blas if it loads, else wasm), can be forced with
 * `CHATFORGE_BACKEND=blas|wasm|js` or `setBackend()`, and `describeBackend()` says what runs.
 * The float64 reference path always uses the plain loops here.
 */
import { availableParallelism } from "node:os";
import { UserError } from "../util/errors.js";
import { blasError, loadBlas, type SgemmFn } from "./blas.js";
import type { Data } from "./tensor.js";

export type BackendName = "blas" | "wasm" | "js";

export interface Backend {
  name: BackendName;
  /** One line for the start-up banner, e.g. "blas (libopenblas.so.0, 2 threads)". */
  description: string;
  sgemm: SgemmFn;
  /** Worker threads used by the kernels around the matmuls (1 = main thread only). */
  threads: number;
}

let active: Backend | null = null;
const factories = new Map<BackendName, (threads: number) => Backend | string>();

/** "1 thread", "2 threads". */
export function threadCount(n: number): string {
  return `${n} thread${n === 1 ? "" : "s"}`;
}

/** Default thread count: CHATFORGE_THREADS, else the number of CPUs (at most 8). */
export function defaultThreads(): number {
  const env = Number(process.env.CHATFORGE_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, Math.min(8, availableParallelism()));
}

factories.set("js", () => ({
  name: "js",
  description: "js (plain loops, 1 thread)",
  sgemm: jsSgemm,
  threads: 1,
}));

factories.set("blas", (threads) => {
  const blas = loadBlas();
  if (!blas) return blasError;
  // Set once. Toggling OpenBLAS's thread count per call (tried for attention's small matmuls)
  // deadlocked its pthread server after a few hundred training steps (OpenBLAS 0.3.21).
  blas.setThreads(threads);
  return {
    name: "blas",
    description: `blas (${blas.path}, ${threadCount(threads)})`,
    sgemm: blas.sgemm,
    threads,
  };
});

/** Registers a backend factory (the wasm backend registers itself from wasm/backend.ts). */
export function registerBackend(name: BackendName, f: (threads: number) => Backend | string) {
  factories.set(name, f);
}

/** Selects a backend by name (throws a UserError naming why if it is not available). */
export function setBackend(name: BackendName, threads = defaultThreads()): Backend {
  const f = factories.get(name);
  if (!f) {
    throw new UserError(
      `unknown backend "${name}"`,
      `use one of ${[...factories.keys()].join(", ")}`,
    );
  }
  const b = f(threads);
  if (typeof b === "string") {
    throw new UserError(
      `backend ${name} is not available: ${b}`,
      "install OpenBLAS (apt-get install libopenblas0-pthread) or use CHATFORGE_BACKEND=wasm",
    );
  }
  active = b;
  return b;
}

/** The active backend, chosen on first use: CHATFORGE_BACKEND, else blas, else wasm, else js. */
export function getBackend(): Backend {
  if (active) return active;
  const forced = process.env.CHATFORGE_BACKEND as BackendName | undefined;
  if (forced) return setBackend(forced);
  for (const name of ["blas", "wasm", "js"] as const) {
    const f = factories.get(name);
    if (!f) continue;
    const b = f(defaultThreads());
    if (typeof b !== "string") {
      active = b;
      return b;
    }
  }
  throw new Error("no backend available");
}

export function describeBackend(): string {
  return getBackend().description;
}

/**
 * C = alpha * op(A) op(B) + beta * C, row-major: op(A) is M×K (A stored K×M when transA),
 * op(B) is K×N (B stored N×K when transB), C is M×N. Row strides (lda, ldb, ldc) default to
 * contiguous storage; larger strides address column blocks of wider matrices (attention heads).
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Data,
  B: Data,
  beta: number,
  C: Data,
  lda = transA ? M : K,
  ldb = transB ? K : N,
  ldc = N,
): void {
  if (M === 0 || N === 0) return;
  if (A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array) {
    getBackend().sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  } else {
    jsGemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
}

/** Plain-loop gemm for any dtype (the reference and last-resort path). */
export function jsGemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Data,
  lda: number,
  B: Data,
  ldb: number,
  beta: number,
  C: Data,
  ldc: number,
): void {
  const row = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    row.fill(0);
    for (let p = 0; p < K; p++) {
      const a = transA ? A[p * lda + i]! : A[i * lda + p]!;
      if (a === 0) continue;
      if (transB) for (let j = 0; j < N; j++) row[j]! += a * B[j * ldb + p]!;
      else {
        const o = p * ldb;
        for (let j = 0; j < N; j++) row[j]! += a * B[o + j]!;
      }
    }
    const o = i * ldc;
    for (let j = 0; j < N; j++) C[o + j] = alpha * row[j]! + (beta === 0 ? 0 : beta * C[o + j]!);
  }
}

const jsSgemm: SgemmFn = (tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) =>
  jsGemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
