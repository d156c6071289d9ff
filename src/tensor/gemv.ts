/**
 * `cblas_sgemv` from the system BLAS (the same library `blas.ts` loads), for the decode path of
 * generation, where every matmul has a single row (y = W·x): a GEMV streams the weight matrix
 * once without the packing a GEMM does. Row-major:
 *
 *   y[0..M) = alpha · op(A) · x + beta · y,   A stored M×N with row stride lda,
 *   op(A) = A (y has M entries, x has N) or Aᵀ (y has N entries, x has M).
 *
 * Returns null where no BLAS (or no cblas_sgemv) loads; callers then use plain loops.
 */
import { createRequire } from "node:module";
import { loadBlas } from "./blas.js";

const require = createRequire(import.meta.url);

export type SgemvFn = (
  transA: boolean,
  M: number,
  N: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  x: Float32Array,
  beta: number,
  y: Float32Array,
) => void;

let cached: SgemvFn | null | undefined;

/** The BLAS sgemv (unit strides for x and y), or null. */
export function loadSgemv(): SgemvFn | null {
  if (cached !== undefined) return cached;
  cached = null;
  const blas = loadBlas();
  if (!blas) return null;
  try {
    const koffi = require("koffi") as typeof import("koffi");
    const raw = koffi
      .load(blas.path)
      .func(
        "void cblas_sgemv(int, int, int, int, float, float *, int, float *, int, float, float *, int)",
      );
    cached = (tA, M, N, alpha, A, lda, x, beta, y) =>
      raw(101, tA ? 112 : 111, M, N, alpha, A, lda, x, 1, beta, y, 1);
  } catch {
    cached = null;
  }
  return cached;
}
