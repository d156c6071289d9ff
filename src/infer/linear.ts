/**
 * The matmul of the decode path, y = x·Wᵀ (+ bias) for a few rows, written straight into a
 * preallocated buffer (no tensors, no scopes). One row (batch 1, one new token) goes through
 * BLAS `sgemv`, which streams W once; several rows through `sgemm` of the active backend.
 * With `accumulate`, y += x·Wᵀ (+ bias): how the residual stream adds a layer's output in place.
 */
import { getBackend } from "../tensor/backend.js";
import { loadSgemv } from "../tensor/gemv.js";

/**
 * y[rows, nOut] (=|+=) x[rows, nIn] · W[nOut, nIn]ᵀ + bias. All buffers float32, contiguous.
 */
export function linearInto(
  x: Float32Array,
  rows: number,
  nIn: number,
  W: Float32Array,
  nOut: number,
  bias: Float32Array | null,
  y: Float32Array,
  accumulate = false,
): void {
  if (bias) {
    for (let r = 0; r < rows; r++) {
      const o = r * nOut;
      if (accumulate) for (let j = 0; j < nOut; j++) y[o + j]! += bias[j]!;
      else y.set(bias.subarray(0, nOut), o);
    }
  }
  const beta = bias || accumulate ? 1 : 0;
  const gemv = rows === 1 ? loadSgemv() : null;
  if (gemv) gemv(false, nOut, nIn, 1, W, nIn, x, beta, y);
  else getBackend().sgemm(false, true, rows, nOut, nIn, 1, x, nIn, W, nIn, beta, y, nOut);
}
