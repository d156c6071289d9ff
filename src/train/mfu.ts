/**
 * Model FLOPs utilisation: the training FLOPs a step needs (6 per parameter per token, plus
 * attention's 12·layers·ctx·d; PaLM, appendix B) over what the machine's matmul can do, measured
 * once as the sgemm rate at 1024³ on the active backend.
 */
import { createModel } from "../model/factory.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import { gemm } from "../tensor/backend.js";
import { alloc, scope } from "../tensor/memory.js";
import { AdamW, defaultGroups } from "../tensor/optim.js";
import { Rng } from "../tensor/rng.js";
import { backward } from "../tensor/tensor.js";

export function flopsPerToken(params: number, nLayer: number, nCtx: number, nEmbd: number): number {
  return 6 * params + 12 * nLayer * nCtx * nEmbd;
}

/**
 * The sgemm rate (GFLOP/s) of the active backend at n³, best of `reps` (the best, because a
 * busy machine only ever makes a run slower).
 */
export function measurePeakGflops(n = 1024, reps = 8): number {
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

/**
 * Training tokens/s of a model config on this machine: the best of a few full steps (forward,
 * backward, AdamW) on random tokens after two warm-up steps. Used to size time-boxed runs; the
 * best step, so that other work running at the same moment costs less of the budget.
 */
export function measureTrainThroughput(cfg: ModelConfig, B: number, T: number, steps = 6): number {
  const model = createModel(cfg, 0);
  const opt = new AdamW(defaultGroups(model.params, 0.1), { lr: 1e-4 });
  const rng = new Rng(0);
  const x = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
  const y = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
  const step = () => {
    scope(() => backward(model.loss(x, y, B, T, true)));
    opt.step();
    opt.zeroGrad();
  };
  step();
  step();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    best = Math.min(best, performance.now() - t0);
  }
  return (B * T) / (best / 1000);
}
