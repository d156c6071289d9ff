/**
 * The matmul of the decode path, y = x·Wᵀ (+ bias) for a few rows, written straight into a
 * preallocated buffer (no tensors, no scopes). One row (batch 1, one new token) goes through
 * BLAS `sgemv`, which streams W once (OpenBLAS threads it). A few rows (batched decoding, up to
 * 16) go through BLAS `sgemm` in column chunks small enough (M·N·K ≤ 2¹⁸) for OpenBLAS's
 * small-matrix kernel, which skips packing and threading: at batch 8 that is 2–2.9× faster than
 * one sgemm call or one sgemv per row on the per-layer weights, and 1.2× on the LM head. The
 * chunks are shared by the kernel pool's threads (the `linear_rows` host kernel), which are kept
 * polling between calls: a sleeping worker takes longer to wake than a chunk takes; 1.9× on a
 * batch-8 step's matmuls (measured on the reference model, 2026-11-29). Longer inputs (prompts)
 * and the other backends take one `sgemm` call.
 * With `accumulate`, y += x·Wᵀ (+ bias): how the residual stream adds a layer's output in place.
 */
import { getBackend } from "../tensor/backend.js";
import { loadBlas } from "../tensor/blas.js";
import { loadSgemv } from "../tensor/gemv.js";
import { inMemory } from "../tensor/memory.js";
import { kernelPool } from "../tensor/wasm/backend.js";

/** Rows up to which the BLAS backend runs column chunks on its small-matrix kernel. */
const CHUNKED_MAX_ROWS = 16;
/** M·N·K up to which OpenBLAS (0.3.21, SkylakeX kernels) takes its small-matrix path. */
const SMALL_MNK = 1 << 18;
/** How long the pool's workers keep polling after a call (a decoding step is a few ms). */
const AWAKE_MS = 5;

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
  if (gemv) {
    gemv(false, nOut, nIn, 1, W, nIn, x, beta, y);
    return;
  }
  const be = getBackend();
  let chunk = nOut;
  if (be.name === "blas" && rows <= CHUNKED_MAX_ROWS) {
    chunk = 8;
    while (chunk < 256 && rows * chunk * 2 * nIn <= SMALL_MNK) chunk *= 2;
  }
  const pool = kernelPool();
  const blas = be.name === "blas" ? loadBlas() : null;
  if (blas && pool && pool.threads > 1 && inMemory(x) && inMemory(W) && inMemory(y)) {
    // the column chunks split over the pool's threads, which are kept awake between a step's
    // many calls; a longer input (a prompt) in one block per thread, OpenBLAS single-threaded,
    // so that its own threads are not left spinning against ours
    if (rows > CHUNKED_MAX_ROWS) chunk = Math.ceil(nOut / pool.threads / 16) * 16;
    pool.keepAwake(AWAKE_MS);
    const args = [x.byteOffset, rows, nIn, W.byteOffset, nOut, y.byteOffset, beta, chunk];
    blas.setThreads(1);
    try {
      pool.run("linear_rows", args, Math.ceil(nOut / chunk), 1, 1);
    } finally {
      blas.setThreads(be.threads);
    }
    return;
  }
  for (let n0 = 0; n0 < nOut; n0 += chunk) {
    const n = Math.min(chunk, nOut - n0);
    be.sgemm(
      false,
      true,
      rows,
      n,
      nIn,
      1,
      x,
      nIn,
      W.subarray(n0 * nIn),
      nIn,
      beta,
      y.subarray(n0),
      nOut,
    );
  }
}
