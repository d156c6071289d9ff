/**
 * Model FLOPs utilisation: the training FLOPs a step needs (6 per parameter per token, plus
 * attention's 12·layers·ctx·d; PaLM, appendix B) over what the machine's matmul can do, measured
 * once as the sgemm rate at 1024³ on the active backend.
 */
import { gemm } from "../tensor/backend.js";
import { alloc, scope } from "../tensor/memory.js";

export function flopsPerToken(params: number, nLayer: number, nCtx: number, nEmbd: number): number {
  return 6 * params + 12 * nLayer * nCtx * nEmbd;
}

/** The sgemm rate (GFLOP/s) of the active backend at n³, best of `reps`. */
export function measurePeakGflops(n = 1024, reps = 4): number {
  return scope(() => {
    const a = alloc(n * n).fill(0.5);
    const b = alloc(n * n).fill(0.25);
    const c = alloc(n * n);
    gemm(false, false, n, n, n, 1, a, b, 0, c);
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      gemm(false, false, n, n, n, 1, a, b, 0, c);
      best = Math.min(best, performance.now() - t0);
    }
    return (2 * n ** 3) / (best / 1000) / 1e9;
  });
}
