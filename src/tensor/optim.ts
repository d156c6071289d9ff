/**
 * Optimizers and learning-rate schedules.
 *
 * AdamW (Loshchilov & Hutter): decoupled weight decay, applied as p -= lr·wd·p next to the Adam
 * update, with bias-corrected moments. Parameters come in groups, each with its own weight
 * decay; `defaultGroups` puts matrices (2-D weights, embeddings) in a decayed group and norms
 * and biases (1-D) in an undecayed one, as nanoGPT does.
 */
import { kernelsFor } from "./kernels.js";
import { alloc, persistent } from "./memory.js";
import type { Data, Tensor } from "./tensor.js";

export interface ParamGroup {
  params: Tensor[];
  weightDecay: number;
  /** Multiplies the scheduled learning rate for this group (default 1). */
  lrScale?: number;
}

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Splits parameters into decayed (ndim ≥ 2) and undecayed (norms, biases) groups. */
export function defaultGroups(params: Tensor[], weightDecay: number): ParamGroup[] {
  return [
    { params: params.filter((p) => p.ndim >= 2), weightDecay },
    { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
  ];
}

export class AdamW {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly groups: ParamGroup[];
  /** Steps taken so far. */
  t = 0;
  readonly m = new Map<Tensor, Data>();
  readonly v = new Map<Tensor, Data>();

  constructor(groups: ParamGroup[], opts: AdamWOptions = {}) {
    this.groups = groups;
    this.lr = opts.lr ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    for (const g of groups) {
      for (const p of g.params) {
        const z = () =>
          p.data instanceof Float64Array
            ? new Float64Array(p.size)
            : persistent(() => alloc(p.size, true));
        this.m.set(p, z());
        this.v.set(p, z());
      }
    }
  }

  /** One update with the current `lr` (parameters without a gradient are skipped). */
  step(): void {
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    for (const g of this.groups) {
      const lr = this.lr * (g.lrScale ?? 1);
      for (const p of g.params) {
        if (!p.grad) continue;
        kernelsFor(p.data).adamw(
          p.data,
          p.grad,
          this.m.get(p)!,
          this.v.get(p)!,
          p.size,
          lr,
          this.beta1,
          this.beta2,
          this.eps,
          g.weightDecay,
          bc1,
          bc2,
        );
      }
    }
  }

  /** Zeroes every parameter's gradient (keeps the buffers). */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad?.fill(0);
  }
}

/** The global L2 norm of all gradients. */
export function gradNorm(params: Tensor[]): number {
  let s = 0;
  for (const p of params) {
    const g = p.grad;
    if (!g) continue;
    s += kernelsFor(g).sumSquares(g, g.length);
  }
  return Math.sqrt(s);
}

/**
 * Global-norm gradient clipping: if the norm of all gradients exceeds maxNorm, scales them
 * all by maxNorm / norm. Returns the norm before clipping.
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  const norm = gradNorm(params);
  if (norm > maxNorm && norm > 0) {
    const f = maxNorm / (norm + 1e-6);
    for (const p of params) {
      const g = p.grad;
      if (g) kernelsFor(g).scaleInPlace(g, f, g.length);
    }
  }
  return norm;
}

export type Schedule = (step: number) => number;

export interface ScheduleOptions {
  /** Peak learning rate. */
  lr: number;
  /** Total steps. */
  steps: number;
  /** Linear warm-up steps from 0 to lr (default 0). */
  warmup?: number;
  /** Final learning rate as a fraction of lr (default 0). */
  minRatio?: number;
  /** For "constant-decay": fraction of steps at the end spent decaying linearly (default 0.2). */
  decayFraction?: number;
}

/**
 * Learning-rate schedules, all with linear warm-up: "constant", "linear" (to minRatio·lr at the
 * last step), "cosine" (half cosine to minRatio·lr), "constant-decay" (flat, then linear decay
 * over the last decayFraction of the steps: warmup-stable-decay).
 */
export function schedule(
  kind: "constant" | "linear" | "cosine" | "constant-decay",
  o: ScheduleOptions,
): Schedule {
  const warm = o.warmup ?? 0;
  const min = (o.minRatio ?? 0) * o.lr;
  const total = Math.max(1, o.steps);
  return (step: number) => {
    if (step < warm) return (o.lr * (step + 1)) / warm;
    const p = Math.min(1, (step - warm) / Math.max(1, total - warm));
    switch (kind) {
      case "constant":
        return o.lr;
      case "linear":
        return o.lr + (min - o.lr) * p;
      case "cosine":
        return min + 0.5 * (o.lr - min) * (1 + Math.cos(Math.PI * p));
      case "constant-decay": {
        const start = 1 - (o.decayFraction ?? 0.2);
        const q = Math.min(1, step / total);
        if (q <= start) return o.lr;
        return o.lr + (min - o.lr) * ((q - start) / (1 - start));
      }
    }
  };
}
