/**
 * The row-wise kernels around the matmuls, as plain loops over any dtype.
 *
 * Each kernel works on a flat buffer of `rows` rows of `C` numbers. Backward kernels ADD into
 * their gradient outputs (gradients accumulate). The ops in ops.ts call these through
 * `kernelsFor(data)`: float64 data always gets the loops here (the reference path); float32
 * data gets the active fast set, where the WebAssembly backend replaces the hot ones with SIMD,
 * multi-threaded versions of exactly the same arithmetic contract.
 */
import type { Data } from "./tensor.js";

const GELU_C = Math.sqrt(2 / Math.PI);

export interface Kernels {
  /** y = a + b elementwise over n numbers (y may alias a or b). */
  add(a: Data, b: Data, y: Data, n: number): void;
  /** y[r, j] = x[r, j] + bias[j] over rows × C (y may alias x); without x, y[r, j] = bias[j]. */
  addBias(x: Data | null, bias: Data, y: Data, rows: number, C: number): void;
  /** Σ x[i]² over n numbers (accumulated in float64). */
  sumSquares(x: Data, n: number): number;
  /**
   * y[i] = exp((x[i] - shift) · scale) over n numbers; returns Σ y (softmax numerators for
   * sampling). The fast set computes the exponentials in float32 (relative error ~1e-7).
   */
  expSum(x: Data, y: Data, n: number, shift: number, scale: number): number;
  /**
   * One draw per row of x ([rows, V], row stride ld) from softmax(x·scale): e = exp((x − max)·scale)
   * (as expSum, into row r of the scratch e, [rows, V]), then out[r] = the first index where the
   * running float64 sum of e passes u[r]·Σe (the last index with any weight if rounding falls
   * short).
   */
  sampleRows(
    x: Data,
    ld: number,
    rows: number,
    V: number,
    scale: number,
    u: Float64Array,
    e: Data,
    out: Int32Array,
  ): void;
  /** x[i] *= s over n numbers, in place. */
  scaleInPlace(x: Data, s: number, n: number): void;
  /** out[j] += Σ_r x[r, j] (bias gradients). */
  colSumAdd(x: Data, out: Data, rows: number, C: number): void;
  layerNormFwd(
    x: Data,
    w: Data,
    b: Data | null,
    y: Data,
    mean: Data,
    rstd: Data,
    rows: number,
    C: number,
    eps: number,
  ): void;
  layerNormBwd(
    dy: Data,
    x: Data,
    w: Data,
    mean: Data,
    rstd: Data,
    dx: Data | null,
    dw: Data | null,
    db: Data | null,
    rows: number,
    C: number,
  ): void;
  rmsNormFwd(x: Data, w: Data, y: Data, rrms: Data, rows: number, C: number, eps: number): void;
  rmsNormBwd(
    dy: Data,
    x: Data,
    w: Data,
    rrms: Data,
    dx: Data | null,
    dw: Data | null,
    rows: number,
    C: number,
  ): void;
  /** y = gelu(x) (tanh form); with s, also s[i] = sigmoid(2u) for the backward (gelu = x·s). */
  geluFwd(x: Data, y: Data, n: number, s?: Data | null): void;
  /**
   * dx += dy·gelu'(x); with `accumulate` false, dx = dy·gelu'(x) (dx may then be dy itself).
   * With s (kept by geluFwd), gelu' comes from it without another tanh.
   */
  geluBwd(x: Data, dy: Data, dx: Data, n: number, accumulate?: boolean, s?: Data | null): void;
  /**
   * y = softmax(scale * x) per row; with causalT > 0, row r only sees its first
   * min(C, row0 + (r mod causalT) + 1) columns (row0 > 0: the rows are one block of a longer
   * causal sequence that starts at row row0), and the rest of y's row is 0.
   */
  softmaxFwd(
    x: Data,
    y: Data,
    rows: number,
    C: number,
    scale: number,
    causalT: number,
    row0?: number,
  ): void;
  /**
   * dx (written, not added) = scale * y * (dy - Σ dy·y) per row; with causalT > 0 only the
   * columns softmaxFwd kept are read and the rest of dx is written 0.
   */
  softmaxBwd(
    y: Data,
    dy: Data,
    dx: Data,
    rows: number,
    C: number,
    scale: number,
    causalT?: number,
    row0?: number,
  ): void;
  /**
   * Writes log-sum-exp per row to lse and returns Σ w_i (lse_i - x_i[t_i]) over kept rows
   * (target ≥ 0, weight ≠ 0). If `grad` is given, also writes there the gradient of
   * Σ f_i·loss_i: f_i·(softmax(x_i) − onehot(t_i)) on kept rows, 0 on the others (f per row,
   * from the caller). grad may be logits itself (each row is then overwritten).
   */
  crossEntropyFwd(
    logits: Data,
    targets: Int32Array,
    weights: Data | null,
    lse: Data,
    rows: number,
    V: number,
    grad: Data | null,
    f: Data | null,
  ): number;
  /** One AdamW step over n numbers (decoupled decay, bias corrections bc1 = 1-β1^t, bc2 = 1-β2^t). */
  adamw(
    p: Data,
    g: Data,
    m: Data,
    v: Data,
    n: number,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
    bc1: number,
    bc2: number,
  ): void;
}

export const jsKernels: Kernels = {
  add(a, b, y, n) {
    for (let i = 0; i < n; i++) y[i] = a[i]! + b[i]!;
  },
  addBias(x, bias, y, rows, C) {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      if (x) for (let j = 0; j < C; j++) y[o + j] = x[o + j]! + bias[j]!;
      else y.set(bias.subarray(0, C), o);
    }
  },
  sampleRows(x, ld, rows, V, scale, u, e, out) {
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * ld, r * ld + V);
      const er = e.subarray(r * V, (r + 1) * V);
      let max = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < V; i++) if (row[i]! > max) max = row[i]!;
      const target = u[r]! * jsKernels.expSum(row, er, V, max, scale);
      let pick = -1;
      let acc = 0;
      for (let i = 0; i < V && pick < 0; i++) {
        acc += er[i]!;
        if (target < acc) pick = i;
      }
      if (pick < 0) {
        pick = 0;
        for (let i = V - 1; i > 0 && pick === 0; i--) if (er[i]! > 0) pick = i;
      }
      out[r] = pick;
    }
  },
  expSum(x, y, n, shift, scale) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const e = Math.exp((x[i]! - shift) * scale);
      y[i] = e;
      s += e;
    }
    return s;
  },
  sumSquares(x, n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]! * x[i]!;
    return s;
  },
  scaleInPlace(x, s, n) {
    for (let i = 0; i < n; i++) x[i]! *= s;
  },
  colSumAdd(x, out, rows, C) {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      for (let j = 0; j < C; j++) out[j]! += x[o + j]!;
    }
  },
  layerNormFwd(x, w, b, y, mean, rstd, rows, C, eps) {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      let s = 0;
      for (let i = 0; i < C; i++) s += x[o + i]!;
      const m = s / C;
      let v = 0;
      for (let i = 0; i < C; i++) {
        const d = x[o + i]! - m;
        v += d * d;
      }
      const rs = 1 / Math.sqrt(v / C + eps);
      mean[r] = m;
      rstd[r] = rs;
      for (let i = 0; i < C; i++) y[o + i] = (x[o + i]! - m) * rs * w[i]! + (b ? b[i]! : 0);
    }
  },
  layerNormBwd(dy, x, w, mean, rstd, dx, dw, db, rows, C) {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      const m = mean[r]!;
      const rs = rstd[r]!;
      let sg = 0;
      let sgx = 0;
      for (let i = 0; i < C; i++) {
        const xh = (x[o + i]! - m) * rs;
        const g = dy[o + i]! * w[i]!;
        sg += g;
        sgx += g * xh;
        if (dw) dw[i]! += dy[o + i]! * xh;
        if (db) db[i]! += dy[o + i]!;
      }
      if (!dx) continue;
      sg /= C;
      sgx /= C;
      for (let i = 0; i < C; i++) {
        const xh = (x[o + i]! - m) * rs;
        dx[o + i]! += rs * (dy[o + i]! * w[i]! - sg - xh * sgx);
      }
    }
  },
  rmsNormFwd(x, w, y, rrms, rows, C, eps) {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      let s = 0;
      for (let i = 0; i < C; i++) s += x[o + i]! * x[o + i]!;
      const rs = 1 / Math.sqrt(s / C + eps);
      rrms[r] = rs;
      for (let i = 0; i < C; i++) y[o + i] = x[o + i]! * rs * w[i]!;
    }
  },
  rmsNormBwd(dy, x, w, rrms, dx, dw, rows, C) {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      const rs = rrms[r]!;
      let sgx = 0;
      for (let i = 0; i < C; i++) {
        const xh = x[o + i]! * rs;
        sgx += dy[o + i]! * w[i]! * xh;
        if (dw) dw[i]! += dy[o + i]! * xh;
      }
      if (!dx) continue;
      sgx /= C;
      for (let i = 0; i < C; i++) {
        dx[o + i]! += rs * (dy[o + i]! * w[i]! - x[o + i]! * rs * sgx);
      }
    }
  },
  geluFwd(x, y, n, s) {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      const sg = 0.5 * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v)));
      y[i] = v * sg;
      if (s) s[i] = sg;
    }
  },
  geluBwd(x, dy, dx, n, accumulate = true, s) {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      // s = sigmoid(2u) = (1 + tanh u) / 2, u = c (v + 0.044715 v³)
      const sg = s ? s[i]! : 0.5 * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v)));
      const d = sg + 2 * v * sg * (1 - sg) * GELU_C * (1 + 3 * 0.044715 * v * v);
      dx[i] = (accumulate ? dx[i]! : 0) + dy[i]! * d;
    }
  },
  softmaxFwd(x, y, rows, C, scale, causalT, row0 = 0) {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      const n = causalT > 0 ? Math.min(C, row0 + (r % causalT) + 1) : C;
      let mx = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < n; i++) mx = Math.max(mx, x[o + i]!);
      let s = 0;
      for (let i = 0; i < n; i++) {
        const e = Math.exp(scale * (x[o + i]! - mx));
        y[o + i] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let i = 0; i < n; i++) y[o + i]! *= inv;
      for (let i = n; i < C; i++) y[o + i] = 0;
    }
  },
  softmaxBwd(y, dy, dx, rows, C, scale, causalT = 0, row0 = 0) {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      const n = causalT > 0 ? Math.min(C, row0 + (r % causalT) + 1) : C;
      let s = 0;
      for (let i = 0; i < n; i++) s += dy[o + i]! * y[o + i]!;
      for (let i = 0; i < n; i++) dx[o + i] = scale * y[o + i]! * (dy[o + i]! - s);
      for (let i = n; i < C; i++) dx[o + i] = 0;
    }
  },
  crossEntropyFwd(logits, targets, weights, lse, rows, V, grad, f) {
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const t = targets[r]!;
      const w = weights ? weights[r]! : 1;
      const o = r * V;
      if (t < 0 || w === 0) {
        lse[r] = 0;
        grad?.fill(0, o, o + V);
        continue;
      }
      const xt = logits[o + t]!;
      let mx = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < V; i++) mx = Math.max(mx, logits[o + i]!);
      let s = 0;
      for (let i = 0; i < V; i++) {
        const e = Math.exp(logits[o + i]! - mx);
        if (grad) grad[o + i] = e;
        s += e;
      }
      const l = mx + Math.log(s);
      lse[r] = l;
      total += w * (l - xt);
      if (grad && f) {
        const fs = f[r]! / s;
        for (let i = 0; i < V; i++) grad[o + i]! *= fs;
        grad[o + t]! -= f[r]!;
      }
    }
    return total;
  },
  adamw(p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2) {
    for (let i = 0; i < n; i++) {
      const gi = g[i]!;
      const mi = b1 * m[i]! + (1 - b1) * gi;
      const vi = b2 * v[i]! + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i]! - lr * (mi / bc1 / (Math.sqrt(vi / bc2) + eps) + wd * p[i]!);
    }
  },
};

/** The f32 kernel set; the wasm module overrides entries with SIMD/threaded versions. */
export const fastKernels: Kernels = { ...jsKernels };

/** The kernel set for a buffer: loops for float64 (reference), the fast set for float32. */
export function kernelsFor(d: Data): Kernels {
  return d instanceof Float64Array ? jsKernels : fastKernels;
}
