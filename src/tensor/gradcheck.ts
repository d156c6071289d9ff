/**
 * Gradient checking: compares an op's hand-written backward with central finite differences
 * computed through the float64 path, and the float32 fast path with the float64 one.
 * Used by the tests; useful to anyone adding an op.
 */
import { Rng } from "./rng.js";
import { backward, clearTape, type Data, noGrad, Tensor, tensor } from "./tensor.js";

export interface GradCheckResult {
  /** Largest |analytic − numeric| / max(1, |numeric|) over all checked entries (float64). */
  maxGradError: number;
  /** Largest |f32 − f64| / max(1, |f64|) over outputs and gradients. */
  maxF32Error: number;
}

function f64Input(values: Float64Array, shape: readonly number[]): Tensor {
  return new Tensor(new Float64Array(values), shape, true);
}

/**
 * `f` maps input tensors to one output tensor. Inputs are given as float64 values + shapes.
 * Checks d(Σ out·R)/d(input) for a fixed random R, at up to `maxPerInput` entries per input.
 */
export function gradCheck(
  f: (xs: Tensor[]) => Tensor,
  inputs: { values: Float64Array; shape: readonly number[] }[],
  opts: { seed?: number; h?: number; maxPerInput?: number; skipF32?: boolean } = {},
): GradCheckResult {
  const rng = new Rng(opts.seed ?? 1);
  const h = opts.h ?? 1e-6;
  // analytic, float64
  const xs = inputs.map((i) => f64Input(i.values, i.shape));
  const y = f(xs);
  const R = new Float64Array(y.size);
  rng.fillNormal(R);
  backward(y, R);
  const objective = (vals: Float64Array[]): number =>
    noGrad(() => {
      const out = f(vals.map((v, i) => new Tensor(v, inputs[i]!.shape, false)));
      let s = 0;
      for (let i = 0; i < out.size; i++) s += out.data[i]! * R[i]!;
      return s;
    });
  let maxGradError = 0;
  const vals = inputs.map((i) => new Float64Array(i.values));
  for (let k = 0; k < inputs.length; k++) {
    const v = vals[k]!;
    const g = xs[k]!.grad ?? new Float64Array(v.length);
    const n = v.length;
    const count = Math.min(n, opts.maxPerInput ?? 40);
    for (let c = 0; c < count; c++) {
      const j = count === n ? c : rng.int(n);
      const old = v[j]!;
      v[j] = old + h;
      const fp = objective(vals);
      v[j] = old - h;
      const fm = objective(vals);
      v[j] = old;
      const num = (fp - fm) / (2 * h);
      const err = Math.abs(g[j]! - num) / Math.max(1, Math.abs(num));
      maxGradError = Math.max(maxGradError, err);
    }
  }
  // float32 fast path vs float64
  let maxF32Error = 0;
  if (!opts.skipF32) {
    const x32 = inputs.map((i) => {
      const t = tensor(i.values, i.shape, "f32");
      t.requiresGrad = true;
      return t;
    });
    const y32 = f(x32);
    backward(y32, Float32Array.from(R));
    const cmp = (a: Data, b: Data) => {
      for (let i = 0; i < a.length; i++) {
        maxF32Error = Math.max(maxF32Error, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
      }
    };
    cmp(y32.data, y.data);
    for (let k = 0; k < xs.length; k++) {
      if (xs[k]!.grad && x32[k]!.grad) cmp(x32[k]!.grad!, xs[k]!.grad!);
    }
  }
  clearTape();
  return { maxGradError, maxF32Error };
}

/** Random float64 values with normal(0, std) entries. */
export function randn(rng: Rng, shape: readonly number[], std = 1) {
  let n = 1;
  for (const d of shape) n *= d;
  const values = new Float64Array(n);
  rng.fillNormal(values, std);
  return { values, shape };
}
