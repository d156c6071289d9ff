/**
 * Kernels written in JavaScript that the pool runs like its WebAssembly ones, on every thread
 * (pool.ts and worker.ts both build them over the shared memory): the attention's per-head
 * products (attention-heads.ts) on the system BLAS. OpenBLAS's AVX-512 sgemm does one head's
 * 256×256×32 product about 2× faster per thread than our 128-bit wasm kernels, but it runs
 * products this small on one thread only; so each pool thread calls it on its own share of the
 * units, with OpenBLAS set to one thread for the call (backend.ts does that around the job).
 *
 * Arguments (byte addresses, as the wasm attention kernels take them):
 *   attn_blas_fwd(Q, K, V, Y, P, B, T, hs, H, group, qld, kld, vld, yld, scale, u0, u1)
 *   attn_blas_bwd(Q, K, V, dY, P, dP, gQ, gK, gV, B, T, hs, H, group, qld, kld, vld, yld, scale,
 *                 u0, u1)   (gQ, gK, gV: 0 when that gradient is not wanted)
 */
import { type HeadKernels, type Heads, headsBackward, headsForward } from "../attention-heads.js";
import { loadBlas } from "../blas.js";

type Fn = (...a: number[]) => void;

/** The host kernels by name; they need the wasm module's softmax exports. */
export function hostKernels(
  memory: WebAssembly.Memory,
  wasm: Record<string, Fn>,
): Record<string, Fn> {
  const softmaxFwd = wasm.softmax_fwd!;
  const softmaxBwd = wasm.softmax_bwd!;
  /** Kernels over F, a view of the whole memory (made per job: the memory may have grown). */
  const ops = (F: Float32Array): HeadKernels => {
    const blas = loadBlas();
    if (!blas) throw new Error("attn_blas_*: no BLAS library loads on this thread");
    const sgemm = blas.sgemm;
    return {
      gemm: (tA, tB, M, N, K, _A, a, lda, _B, b, ldb, beta, _C, c, ldc) =>
        sgemm(tA, tB, M, N, K, 1, F.subarray(a), lda, F.subarray(b), ldb, beta, F.subarray(c), ldc),
      softmaxFwd: (_P, p, T, scale) => softmaxFwd(4 * p, 4 * p, T, scale, T, 0, T),
      softmaxBwd: (_P, p, _dP, d, T, scale) => softmaxBwd(4 * p, 4 * d, 4 * d, T, scale, T, 0, T),
    };
  };
  const call = (F: Float32Array, addr: number[], shape: number[]): Heads => {
    const [Q, K, V, Y, P] = addr.map((a) => a / 4) as [number, number, number, number, number];
    const [B, T, hs, H, group, qld, kld, vld, yld, scale] = shape as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const [q, k, v, y, p] = [Q, K, V, Y, P];
    return {
      Q: F,
      q,
      qld,
      K: F,
      k,
      kld,
      V: F,
      v,
      vld,
      Y: F,
      y,
      yld,
      P: F,
      p,
      B,
      T,
      H,
      Hkv: H / group,
      hs,
      scale,
    };
  };
  return {
    attn_blas_fwd: (...a: number[]) => {
      const F = new Float32Array(memory.buffer);
      const [u0, u1] = a.slice(15) as [number, number];
      headsForward(call(F, a.slice(0, 5), a.slice(5, 15)), ops(F), u0, u1);
    },
    attn_blas_bwd: (...a: number[]) => {
      const F = new Float32Array(memory.buffer);
      const [Q, K, V, dY, P, dP, gQ, gK, gV] = a.slice(0, 9) as number[];
      const [u0, u1] = a.slice(19) as [number, number];
      const c = call(F, [Q!, K!, V!, 0, P!], a.slice(9, 19));
      const grad = (x: number) => (x ? F : null);
      const grads = {
        dY: F,
        dy: dY! / 4,
        dP: F,
        dp: dP! / 4,
        gQ: grad(gQ!),
        gq: gQ! / 4,
        gK: grad(gK!),
        gk: gK! / 4,
        gV: grad(gV!),
        gv: gV! / 4,
      };
      headsBackward(c, grads, ops(F), u0, u1);
    },
  };
}
