/**
 * Kernels written in JavaScript that the pool runs like its WebAssembly ones, on every thread
 * (pool.ts and worker.ts both build them over the shared memory): the attention's per-head
 * products (attention-heads.ts) on the system BLAS, with the softmax rows in wasm. OpenBLAS's
 * AVX-512 sgemm does one head's small products about 2× faster per thread than our 128-bit wasm
 * kernels, but it runs products this small on one thread only; so each pool thread calls it on
 * its own share of the units, with OpenBLAS set to one thread for the job (backend.ts does that).
 *
 * Arguments (byte addresses; `per`: units per thread, which picks the thread's scratch slot):
 *   attn_blas_fwd(Q, K, V, Y, saved, B, T, hs, H, group, qld, kld, vld, yld, scale, u0, u1)
 *   attn_blas_bwd(Q, K, V, dY, saved, scratch, per, gQ, gK, gV, B, T, hs, H, group, qld, kld,
 *                 vld, yld, scale, u0, u1)   (gQ, gK, gV: 0 when that gradient is not wanted)
 *
 * And the decode path's matmul for a few rows (infer/linear.ts), split by column chunks:
 *   linear_rows(x, rows, nIn, W, nOut, y, beta, chunk, c0, c1): for chunks c in [c0, c1),
 *   y[:, c·chunk ..] (beta 0: =, 1: +=) x · W[c·chunk .., :]ᵀ, each chunk one sgemm small enough
 *   for OpenBLAS's single-threaded small-matrix kernel.
 */
import {
  type HeadKernels,
  headsBackward,
  headsForward,
  scratchFloats,
} from "../attention-heads.js";
import { loadBlas } from "../blas.js";

type Fn = (...a: number[]) => void;

/** The host kernels by name; they use the wasm module's softmax_fwd / softmax_bwd. */
export function hostKernels(
  memory: WebAssembly.Memory,
  wasm: Record<string, Fn>,
): Record<string, Fn> {
  const softmaxFwd = wasm.softmax_fwd!;
  const softmaxBwd = wasm.softmax_bwd!;
  const sgemm = () => {
    const blas = loadBlas();
    if (!blas) throw new Error("host kernels: no BLAS library loads on this thread");
    return blas.sgemm;
  };
  /** Kernels over F, a view of the whole memory (made per job: the memory may have grown). */
  const ops = (F: Float32Array): HeadKernels => {
    const mm = sgemm();
    return {
      gemm: (tA, tB, M, N, K, _A, a, lda, _B, b, ldb, beta, _C, c, ldc) =>
        mm(tA, tB, M, N, K, 1, F.subarray(a), lda, F.subarray(b), ldb, beta, F.subarray(c), ldc),
      softmaxRows: (_S, s, rows, width, row0, scale) =>
        softmaxFwd(4 * s, 4 * s, width, scale, rows, row0, 0, rows),
      softmaxGradRows: (_P, p, _dS, d, rows, width, row0, scale) =>
        softmaxBwd(4 * p, 4 * d, 4 * d, width, scale, rows, row0, 0, rows),
    };
  };
  /**
   * The attention call from F and the arguments: byte addresses of Q, K, V, Y (0 in the
   * backward) and saved, then from a[at] B, T, hs, H, group, qld, kld, vld, yld, scale.
   */
  const heads = (F: Float32Array, addr: number[], a: number[], at: number) => {
    const [q, k, v, y, sv] = addr.map((x) => x / 4) as Args;
    const [B, T, hs, H, group, qld, kld, vld, yld, scale] = a.slice(at, at + 10) as Args;
    const c = { Q: F, q, qld, K: F, k, kld, V: F, v, vld, Y: F, y, yld, saved: F, sv };
    return { ...c, B, T, H, Hkv: H / group, hs, scale };
  };
  return {
    linear_rows: (...a) => {
      const [x, rows, nIn, W, nOut, y, beta, chunk, c0, c1] = a as Args;
      const mm = sgemm();
      const F = new Float32Array(memory.buffer);
      for (let c = c0; c < c1; c++) {
        const n0 = c * chunk;
        const [Wc, Yc] = [F.subarray(W / 4 + n0 * nIn), F.subarray(y / 4 + n0)];
        const n = Math.min(chunk, nOut - n0);
        mm(false, true, rows, n, nIn, 1, F.subarray(x / 4), nIn, Wc, nIn, beta, Yc, nOut);
      }
    },
    attn_blas_fwd: (...a) => {
      const F = new Float32Array(memory.buffer);
      const [u0, u1] = a.slice(15) as Args;
      headsForward(heads(F, a.slice(0, 5), a, 5), ops(F), u0, u1);
    },
    attn_blas_bwd: (...a) => {
      const F = new Float32Array(memory.buffer);
      const [Q, K, V, dY, saved, scratch, per, gQ, gK, gV] = a as Args;
      const [u0, u1] = a.slice(20) as Args;
      const c = heads(F, [Q, K, V, 0, saved], a, 10);
      const g = (x: number) => (x ? F : null);
      const grads = {
        dY: F,
        dy: dY / 4,
        gQ: g(gQ),
        gq: gQ / 4,
        gK: g(gK),
        gk: gK / 4,
        gV: g(gV),
        gv: gV / 4,
      };
      // this thread's scratch: slot ⌊u0 / per⌋ of the scratch area
      const sc = scratch / 4 + Math.floor(u0 / per) * scratchFloats(c.T);
      headsBackward(c, grads, ops(F), F, sc, u0, u1);
    },
  };
}

/** Unpacked numeric arguments (the callers in backend.ts and linear.ts pass them all). */
type Args = number[] & { [i: number]: number };
