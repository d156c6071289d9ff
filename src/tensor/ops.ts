/**
 * The ops: coarse, each with a hand-written backward.
 *
 * Conventions: shapes are row-major; "rows" means all leading axes flattened; weights of
 * linear layers are [out, in] (PyTorch nn.Linear). Every op checks shapes and throws an error
 * naming the op and the shapes. Outputs come from the memory pool (memory.ts), so inside a
 * `scope` they are recycled. Backward closures ADD into the inputs' `.grad`.
 */
import { gemm } from "./backend.js";
import { kernelsFor } from "./kernels.js";
import type { Rng } from "./rng.js";
import {
  checked,
  checkedGrad,
  type Data,
  empty,
  needsGrad,
  numel,
  record,
  shapeError,
  Tensor,
} from "./tensor.js";
import { initComputeSync } from "./wasm/backend.js";

// SIMD kernels on this thread from the start; initCompute() adds worker threads
initComputeSync();

function out(op: string, data: Data, shape: readonly number[], grad: boolean): Tensor {
  return new Tensor(data, shape, grad, op);
}

function sameDtype(op: string, ...ts: Tensor[]): void {
  const d = ts[0]!.dtype;
  for (const t of ts) if (t.dtype !== d) shapeError(op, `mixed dtypes ${d} and ${t.dtype}`, ...ts);
}

function addInto(dst: Data, src: Data): void {
  kernelsFor(dst).add(dst, src, dst, dst.length);
}

// ---------------------------------------------------------------------------------------------
// Matmul and linear

export interface MatmulOptions {
  /** Use the transpose of a's last two axes. */
  transA?: boolean;
  /** Use the transpose of b's last two axes. */
  transB?: boolean;
}

/**
 * Batched matrix product op(a) · op(b). a: [...batch, M, K] (or [..., K, M] with transA);
 * b: [...batch, K, N] (or [..., N, K] with transB), or 2-D and shared by every batch entry.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const op = "matmul";
  sameDtype(op, a, b);
  const tA = !!opts.transA;
  const tB = !!opts.transB;
  if (a.ndim < 2 || b.ndim < 2) shapeError(op, "operands need at least 2 axes", a, b);
  const M = tA ? a.dim(-1) : a.dim(-2);
  const K = tA ? a.dim(-2) : a.dim(-1);
  const Kb = tB ? b.dim(-1) : b.dim(-2);
  const N = tB ? b.dim(-2) : b.dim(-1);
  if (K !== Kb) shapeError(op, `inner sizes differ (${K} vs ${Kb})`, a, b);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const nb = numel(batchA);
  const shared = b.ndim === 2;
  if (!shared && batchA.join() !== batchB.join()) {
    shapeError(op, "batch axes must match (or b must be 2-D)", a, b);
  }
  const y = empty(nb * M * N, a.dtype);
  const foldable = shared && !tA; // one big gemm: [nb*M, K] x op(b)
  if (foldable) gemm(false, tB, nb * M, N, K, 1, a.data, b.data, 0, y);
  else {
    for (let i = 0; i < nb; i++) {
      gemm(
        tA,
        tB,
        M,
        N,
        K,
        1,
        a.data.subarray(i * M * K, (i + 1) * M * K),
        shared ? b.data : b.data.subarray(i * K * N, (i + 1) * K * N),
        0,
        y.subarray(i * M * N, (i + 1) * M * N),
      );
    }
  }
  const res = out(op, y, [...batchA, M, N], needsGrad(a, b));
  if (res.requiresGrad) {
    record(() => {
      const dC = res.grad;
      if (!dC) return;
      const ga = a.requiresGrad ? a.ensureGrad() : null;
      const gb = b.requiresGrad ? b.ensureGrad() : null;
      if (foldable) {
        if (ga) {
          // dA = dC · op(b)^T
          gemm(false, !tB, nb * M, K, N, 1, dC, b.data, 1, ga);
        }
        if (gb) {
          if (tB) gemm(true, false, N, K, nb * M, 1, dC, a.data, 1, gb);
          else gemm(true, false, K, N, nb * M, 1, a.data, dC, 1, gb);
        }
      } else {
        for (let i = 0; i < nb; i++) {
          const Ai = a.data.subarray(i * M * K, (i + 1) * M * K);
          const Bi = shared ? b.data : b.data.subarray(i * K * N, (i + 1) * K * N);
          const Ci = dC.subarray(i * M * N, (i + 1) * M * N);
          if (ga) {
            const gAi = ga.subarray(i * M * K, (i + 1) * M * K);
            if (!tA) gemm(false, !tB, M, K, N, 1, Ci, Bi, 1, gAi);
            else gemm(tB, true, K, M, N, 1, Bi, Ci, 1, gAi);
          }
          if (gb) {
            const gBi = shared ? gb : gb.subarray(i * K * N, (i + 1) * K * N);
            if (!tB) gemm(!tA, false, K, N, M, 1, Ai, Ci, 1, gBi);
            else gemm(true, tA, N, K, M, 1, Ci, Ai, 1, gBi);
          }
        }
      }
      checkedGrad(op, ga);
      checkedGrad(op, gb);
    });
  }
  return checked(op, res);
}

/**
 * y = x · wᵀ + bias (+ residual). x: [..., in]; w: [out, in]; bias: [out] or null; residual: null
 * or y's shape, added in the same pass (a transformer block's `x + proj(h)` without a separate
 * add: the sum starts as residual + bias and the matmul accumulates into it).
 */
export function linear(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null = null,
  residual: Tensor | null = null,
): Tensor {
  const op = "linear";
  sameDtype(op, x, w);
  if (w.ndim !== 2 || x.dim(-1) !== w.dim(1)) {
    shapeError(op, "x's last axis must equal w's second axis (w is [out, in])", x, w);
  }
  const nOut = w.dim(0);
  const nIn = w.dim(1);
  if (bias && (bias.ndim !== 1 || bias.size !== nOut)) {
    shapeError(op, `bias must be [${nOut}]`, x, w, bias);
  }
  const shape = [...x.shape.slice(0, -1), nOut];
  if (residual && (residual.dtype !== x.dtype || residual.shape.join() !== shape.join())) {
    shapeError(op, `residual must be [${shape}] like the output`, x, w, residual);
  }
  const rows = x.size / nIn;
  const y = empty(rows * nOut, x.dtype);
  if (bias) kernelsFor(y).addBias(residual?.data ?? null, bias.data, y, rows, nOut);
  else if (residual) y.set(residual.data);
  gemm(false, true, rows, nOut, nIn, 1, x.data, w.data, bias || residual ? 1 : 0, y);
  const res = out(op, y, shape, needsGrad(x, w, bias, residual));
  if (res.requiresGrad) {
    record(() => {
      const dy = res.grad;
      if (!dy) return;
      if (x.requiresGrad) {
        const { g, add } = x.gradForWrite();
        gemm(false, false, rows, nIn, nOut, 1, dy, w.data, add ? 1 : 0, g);
      }
      if (w.requiresGrad) gemm(true, false, nOut, nIn, rows, 1, dy, x.data, 1, w.ensureGrad());
      if (bias?.requiresGrad) {
        kernelsFor(dy).colSumAdd(dy, bias.ensureGrad(), rows, nOut);
      }
      checkedGrad(op, x.grad);
      // last: the residual takes dy over when it has no gradient yet (dy is not needed after)
      if (residual?.requiresGrad) {
        if (!residual.grad && !residual.persistent && residual !== x) residual.grad = dy;
        else addInto(residual.ensureGrad(), dy);
        checkedGrad(op, residual.grad);
      }
    });
  }
  return checked(op, res);
}

// ---------------------------------------------------------------------------------------------
// Embedding

/** Rows of `weight` ([V, d]) picked by `ids` (any shape given by `shape`): [...shape, d]. */
export function embedding(weight: Tensor, ids: Int32Array, shape?: readonly number[]): Tensor {
  const op = "embedding";
  const [V, d] = weight.shape as [number, number];
  if (weight.ndim !== 2) shapeError(op, "weight must be [vocab, dim]", weight);
  const s = shape ?? [ids.length];
  if (numel(s) !== ids.length) throw new Error(`${op}: ${ids.length} ids do not fill [${s}]`);
  const y = empty(ids.length * d, weight.dtype);
  const w = weight.data;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < V)) throw new Error(`${op}: id ${id} at index ${i} outside [0, ${V})`);
    const o = id * d;
    const p = i * d;
    for (let j = 0; j < d; j++) y[p + j] = w[o + j]!;
  }
  const res = out(op, y, [...s, d], needsGrad(weight));
  if (res.requiresGrad) {
    record(() => {
      const dy = res.grad;
      if (!dy) return;
      const g = weight.ensureGrad();
      for (let i = 0; i < ids.length; i++) {
        const o = ids[i]! * d;
        const p = i * d;
        for (let j = 0; j < d; j++) g[o + j]! += dy[p + j]!;
      }
    });
  }
  return checked(op, res);
}

// ---------------------------------------------------------------------------------------------
// Elementwise with broadcasting

/** numpy broadcasting of two shapes; throws naming the op if they do not broadcast. */
export function broadcastShapes(op: string, a: Tensor, b: Tensor): number[] {
  const n = Math.max(a.ndim, b.ndim);
  const s: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a.shape[a.ndim - n + i] ?? 1;
    const db = b.shape[b.ndim - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      shapeError(op, `axis ${i - n} does not broadcast (${da} vs ${db})`, a, b);
    }
    s.push(da === 1 ? db : da);
  }
  return s;
}

/** For each output index, the flat index into t (0 stride on broadcast axes). */
function broadcastIndex(t: Tensor, shape: number[]): Int32Array {
  const n = numel(shape);
  const idx = new Int32Array(n);
  const nd = shape.length;
  const strides: number[] = new Array(nd).fill(0);
  let s = 1;
  for (let i = t.ndim - 1; i >= 0; i--) {
    const ax = nd - t.ndim + i;
    strides[ax] = t.shape[i] === 1 ? 0 : s;
    s *= t.shape[i]!;
  }
  const ctr = new Array(nd).fill(0);
  let flat = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = flat;
    for (let ax = nd - 1; ax >= 0; ax--) {
      ctr[ax]++;
      flat += strides[ax]!;
      if (ctr[ax] < shape[ax]!) break;
      flat -= strides[ax]! * ctr[ax];
      ctr[ax] = 0;
    }
  }
  return idx;
}

type Kind = "same" | "suffix" | "general";

function binary(
  op: string,
  a: Tensor,
  b: Tensor,
  f: (x: number, y: number) => number,
  dfa: (x: number, y: number, g: number) => number,
  dfb: (x: number, y: number, g: number) => number,
): Tensor {
  sameDtype(op, a, b);
  const shape = broadcastShapes(op, a, b);
  const n = numel(shape);
  const y = empty(n, a.dtype);
  const A = a.data;
  const B = b.data;
  let kind: Kind = "general";
  if (a.size === n && b.size === n) kind = "same";
  else if (a.size === n && a.shape.slice(a.ndim - b.ndim).join() === b.shape.join()) {
    kind = "suffix";
  }
  let ia: Int32Array | null = null;
  let ib: Int32Array | null = null;
  if (kind === "same") for (let i = 0; i < n; i++) y[i] = f(A[i]!, B[i]!);
  else if (kind === "suffix") {
    const m = b.size;
    for (let i = 0; i < n; i++) y[i] = f(A[i]!, B[i % m]!);
  } else {
    ia = broadcastIndex(a, shape);
    ib = broadcastIndex(b, shape);
    for (let i = 0; i < n; i++) y[i] = f(A[ia[i]!]!, B[ib[i]!]!);
  }
  const res = out(op, y, shape, needsGrad(a, b));
  if (res.requiresGrad) {
    record(() => {
      const g = res.grad;
      if (!g) return;
      const ga = a.requiresGrad ? a.ensureGrad() : null;
      const gb = b.requiresGrad ? b.ensureGrad() : null;
      if (kind === "same") {
        for (let i = 0; i < n; i++) {
          if (ga) ga[i]! += dfa(A[i]!, B[i]!, g[i]!);
          if (gb) gb[i]! += dfb(A[i]!, B[i]!, g[i]!);
        }
      } else if (kind === "suffix") {
        const m = b.size;
        for (let i = 0; i < n; i++) {
          if (ga) ga[i]! += dfa(A[i]!, B[i % m]!, g[i]!);
          if (gb) gb[i % m]! += dfb(A[i]!, B[i % m]!, g[i]!);
        }
      } else {
        for (let i = 0; i < n; i++) {
          const x = A[ia![i]!]!;
          const z = B[ib![i]!]!;
          if (ga) ga[ia![i]!]! += dfa(x, z, g[i]!);
          if (gb) gb[ib![i]!]! += dfb(x, z, g[i]!);
        }
      }
      checkedGrad(op, ga);
      checkedGrad(op, gb);
    });
  }
  return checked(op, res);
}

/** a + b with numpy broadcasting. */
export function add(a: Tensor, b: Tensor): Tensor {
  if (a.dtype === b.dtype && a.shape.slice(a.ndim - b.ndim).join() === b.shape.join()) {
    return a.size === b.size ? addSame(a, b) : addRows(a, b);
  }
  return binary(
    "add",
    a,
    b,
    (x, y) => x + y,
    (_x, _y, g) => g,
    (_x, _y, g) => g,
  );
}

/** Same-shape add (the residual connection), without per-element closures. */
function addSame(a: Tensor, b: Tensor): Tensor {
  const op = "add";
  const n = a.size;
  const y = empty(n, a.dtype);
  const A = a.data;
  const B = b.data;
  kernelsFor(y).add(A, B, y, n);
  const res = out(op, y, a.shape, needsGrad(a, b));
  if (res.requiresGrad) {
    record(() => {
      const g = res.grad;
      if (!g) return;
      // b first (it may need g unchanged), then a takes g over when it has no gradient yet
      if (b.requiresGrad) {
        const gb = b.gradForWrite();
        if (gb.add) addInto(gb.g, g);
        else gb.g.set(g);
      }
      if (a.requiresGrad) {
        if (!a.grad && !a.persistent && a !== b) a.grad = g;
        else addInto(a.ensureGrad(), g);
      }
    });
  }
  return checked(op, res);
}

/**
 * a + b where b's shape is a suffix of a's: b is added to every "row" of a (token + position
 * embeddings, biases). Backward: a's gradient is the output's; b's is its sum over the rows.
 */
function addRows(a: Tensor, b: Tensor): Tensor {
  const op = "add";
  const m = b.size;
  const rows = a.size / m;
  const y = empty(a.size, a.dtype);
  const A = a.data;
  const B = b.data;
  const k = kernelsFor(y);
  k.addBias(A, B, y, rows, m);
  const res = out(op, y, a.shape, needsGrad(a, b));
  if (res.requiresGrad) {
    record(() => {
      const g = res.grad;
      if (!g) return;
      if (b.requiresGrad) k.colSumAdd(g, b.ensureGrad(), rows, m);
      if (a.requiresGrad) {
        if (!a.grad && !a.persistent) a.grad = g;
        else addInto(a.ensureGrad(), g);
      }
      checkedGrad(op, b.grad);
    });
  }
  return checked(op, res);
}

/** a * b (elementwise) with numpy broadcasting. */
export function mul(a: Tensor, b: Tensor): Tensor {
  return binary(
    "mul",
    a,
    b,
    (x, y) => x * y,
    (_x, y, g) => g * y,
    (x, _y, g) => g * x,
  );
}

/** a * s for a number s. */
export function scale(a: Tensor, s: number): Tensor {
  const op = "scale";
  const y = empty(a.size, a.dtype);
  for (let i = 0; i < a.size; i++) y[i] = a.data[i]! * s;
  const res = out(op, y, a.shape, needsGrad(a));
  if (res.requiresGrad) {
    record(() => {
      if (!res.grad) return;
      const g = a.ensureGrad();
      for (let i = 0; i < g.length; i++) g[i]! += res.grad[i]! * s;
    });
  }
  return checked(op, res);
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * w + b. */
export function layerNorm(x: Tensor, w: Tensor, b: Tensor | null, eps = 1e-5): Tensor {
  const op = "layerNorm";
  const C = x.dim(-1);
  if (w.size !== C || (b && b.size !== C)) shapeError(op, `w and b must be [${C}]`, x, w);
  const rows = x.size / C;
  const y = empty(x.size, x.dtype);
  const mean = empty(rows, x.dtype);
  const rstd = empty(rows, x.dtype);
  const k = kernelsFor(x.data);
  k.layerNormFwd(x.data, w.data, b ? b.data : null, y, mean, rstd, rows, C, eps);
  const res = out(op, y, x.shape, needsGrad(x, w, b));
  if (res.requiresGrad) {
    record(() => {
      if (!res.grad) return;
      k.layerNormBwd(
        res.grad,
        x.data,
        w.data,
        mean,
        rstd,
        x.requiresGrad ? x.ensureGrad() : null,
        w.requiresGrad ? w.ensureGrad() : null,
        b?.requiresGrad ? b.ensureGrad() : null,
        rows,
        C,
      );
      checkedGrad(op, x.grad);
    });
  }
  return checked(op, res);
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) * w. */
export function rmsNorm(x: Tensor, w: Tensor, eps = 1e-6): Tensor {
  const op = "rmsNorm";
  const C = x.dim(-1);
  if (w.size !== C) shapeError(op, `w must be [${C}]`, x, w);
  const rows = x.size / C;
  const y = empty(x.size, x.dtype);
  const rrms = empty(rows, x.dtype);
  const k = kernelsFor(x.data);
  k.rmsNormFwd(x.data, w.data, y, rrms, rows, C, eps);
  const res = out(op, y, x.shape, needsGrad(x, w));
  if (res.requiresGrad) {
    record(() => {
      if (!res.grad) return;
      k.rmsNormBwd(
        res.grad,
        x.data,
        w.data,
        rrms,
        x.requiresGrad ? x.ensureGrad() : null,
        w.requiresGrad ? w.ensureGrad() : null,
        rows,
        C,
      );
      checkedGrad(op, x.grad);
    });
  }
  return checked(op, res);
}

// ---------------------------------------------------------------------------------------------
// Activations

/** GELU, tanh form: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))). */
export function gelu(x: Tensor): Tensor {
  const op = "gelu";
  const y = empty(x.size, x.dtype);
  const k = kernelsFor(x.data);
  const grad = needsGrad(x);
  // with a gradient to come, keep sigmoid(2u) per element: the backward then needs no tanh
  const s = grad ? empty(x.size, x.dtype) : null;
  k.geluFwd(x.data, y, x.size, s);
  const res = out(op, y, x.shape, grad);
  if (res.requiresGrad) {
    record(() => {
      const g = res.grad;
      if (!g) return;
      if (!x.grad && !x.persistent) {
        // the usual case: turn the output's gradient into the input's, in place
        k.geluBwd(x.data, g, g, x.size, false, s);
        x.grad = g;
      } else k.geluBwd(x.data, g, x.ensureGrad(), x.size, true, s);
      checkedGrad(op, x.grad);
    });
  }
  return checked(op, res);
}

function unary(
  op: string,
  x: Tensor,
  f: (v: number) => number,
  df: (v: number, y: number) => number,
): Tensor {
  const y = empty(x.size, x.dtype);
  const X = x.data;
  for (let i = 0; i < x.size; i++) y[i] = f(X[i]!);
  const res = out(op, y, x.shape, needsGrad(x));
  if (res.requiresGrad) {
    record(() => {
      const g = res.grad;
      if (!g) return;
      const gx = x.ensureGrad();
      for (let i = 0; i < gx.length; i++) gx[i]! += g[i]! * df(X[i]!, y[i]!);
      checkedGrad(op, gx);
    });
  }
  return checked(op, res);
}

/** SiLU (swish): x σ(x). */
export function silu(x: Tensor): Tensor {
  return unary(
    "silu",
    x,
    (v) => v / (1 + Math.exp(-v)),
    (v) => {
      const s = 1 / (1 + Math.exp(-v));
      return s * (1 + v * (1 - s));
    },
  );
}

/** ReLU squared: max(x, 0)². */
export function relu2(x: Tensor): Tensor {
  return unary(
    "relu2",
    x,
    (v) => (v > 0 ? v * v : 0),
    (v) => (v > 0 ? 2 * v : 0),
  );
}

/** ReLU: max(x, 0). */
export function relu(x: Tensor): Tensor {
  return unary(
    "relu",
    x,
    (v) => Math.max(v, 0),
    (v) => (v > 0 ? 1 : 0),
  );
}

/** SwiGLU: silu(gate) * up (Llama's MLP), one fused op. */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  const op = "swiglu";
  sameDtype(op, gate, up);
  if (gate.shape.join() !== up.shape.join()) shapeError(op, "gate and up must match", gate, up);
  const n = gate.size;
  const y = empty(n, gate.dtype);
  const G = gate.data;
  const U = up.data;
  for (let i = 0; i < n; i++) {
    const g = G[i]!;
    y[i] = (g / (1 + Math.exp(-g))) * U[i]!;
  }
  const res = out(op, y, gate.shape, needsGrad(gate, up));
  if (res.requiresGrad) {
    record(() => {
      const dy = res.grad;
      if (!dy) return;
      const gg = gate.requiresGrad ? gate.ensureGrad() : null;
      const gu = up.requiresGrad ? up.ensureGrad() : null;
      for (let i = 0; i < n; i++) {
        const g = G[i]!;
        const s = 1 / (1 + Math.exp(-g));
        if (gu) gu[i]! += dy[i]! * g * s;
        if (gg) gg[i]! += dy[i]! * U[i]! * s * (1 + g * (1 - s));
      }
      checkedGrad(op, gg);
      checkedGrad(op, gu);
    });
  }
  return checked(op, res);
}

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  const op = "softmax";
  const C = x.dim(-1);
  const rows = x.size / C;
  const y = empty(x.size, x.dtype);
  const k = kernelsFor(x.data);
  k.softmaxFwd(x.data, y, rows, C, 1, 0);
  const res = out(op, y, x.shape, needsGrad(x));
  if (res.requiresGrad) {
    record(() => {
      if (!res.grad) return;
      const tmp = empty(x.size, x.dtype);
      k.softmaxBwd(y, res.grad, tmp, rows, C, 1);
      addInto(x.ensureGrad(), tmp);
    });
  }
  return checked(op, res);
}

/** Inverted dropout: zeroes each entry with probability p and scales the rest by 1/(1-p). */
export function dropout(x: Tensor, p: number, rng: Rng, training = true): Tensor {
  if (!training || p === 0) return x;
  const op = "dropout";
  if (!(p >= 0 && p < 1)) throw new Error(`${op}: p must be in [0, 1), got ${p}`);
  const mask = empty(x.size, x.dtype);
  const s = 1 / (1 - p);
  const y = empty(x.size, x.dtype);
  for (let i = 0; i < x.size; i++) {
    mask[i] = rng.uniform() < p ? 0 : s;
    y[i] = x.data[i]! * mask[i]!;
  }
  const res = out(op, y, x.shape, needsGrad(x));
  if (res.requiresGrad) {
    record(() => {
      if (!res.grad) return;
      const g = x.ensureGrad();
      for (let i = 0; i < g.length; i++) g[i]! += res.grad[i]! * mask[i]!;
    });
  }
  return checked(op, res);
}

// ---------------------------------------------------------------------------------------------
// Reductions

/** Sum of all entries (a scalar), or over the last axis when `lastAxis`. */
export function sum(x: Tensor, lastAxis = false): Tensor {
  const op = "sum";
  const C = lastAxis ? x.dim(-1) : x.size;
  const rows = x.size / C;
  const y = empty(rows, x.dtype);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < C; i++) s += x.data[r * C + i]!;
    y[r] = s;
  }
  const res = out(op, y, lastAxis ? x.shape.slice(0, -1) : [], needsGrad(x));
  if (res.requiresGrad) {
    record(() => {
      if (!res.grad) return;
      const g = x.ensureGrad();
      for (let r = 0; r < rows; r++) {
        const d = res.grad[r]!;
        for (let i = 0; i < C; i++) g[r * C + i]! += d;
      }
    });
  }
  return checked(op, res);
}

/** Mean of all entries (a scalar), or over the last axis when `lastAxis`. */
export function mean(x: Tensor, lastAxis = false): Tensor {
  return scale(sum(x, lastAxis), 1 / (lastAxis ? x.dim(-1) : x.size));
}

// ---------------------------------------------------------------------------------------------
// Loss

export interface CrossEntropyOptions {
  /** Targets with this value are ignored (default -1). Any negative target is ignored. */
  ignoreIndex?: number;
  /** Per-row weights (e.g. a loss mask); the loss is Σ wᵢ ℓᵢ / Σ wᵢ over kept rows. */
  weights?: Float32Array | Float64Array | null;
  /**
   * The logits' values may be overwritten (by their gradient): for a caller that never reads
   * them again, it saves a buffer the size of the logits.
   */
  overwriteLogits?: boolean;
}

/**
 * Cross-entropy of `logits` ([..., V]) against integer `targets` (one per row), fused with
 * the log-softmax: the mean (or weighted mean) of −log softmax(logits)[target]. Returns a
 * scalar. Rows whose target is negative or whose weight is 0 do not count.
 */
export function crossEntropy(
  logits: Tensor,
  targets: Int32Array,
  opts: CrossEntropyOptions = {},
): Tensor {
  const op = "crossEntropy";
  const V = logits.dim(-1);
  const rows = logits.size / V;
  if (targets.length !== rows) {
    throw new Error(
      `${op}: ${targets.length} targets for ${rows} rows of logits [${logits.shape}]`,
    );
  }
  const ignore = opts.ignoreIndex ?? -1;
  const w = opts.weights ?? null;
  if (w && w.length !== rows) throw new Error(`${op}: ${w.length} weights for ${rows} rows`);
  let tg = targets;
  if (ignore >= 0) {
    tg = new Int32Array(targets);
    for (let i = 0; i < rows; i++) if (tg[i] === ignore) tg[i] = -1;
  }
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const t = tg[i]!;
    if (t >= V) throw new Error(`${op}: target ${t} at row ${i} outside [0, ${V})`);
    if (t >= 0) total += w ? w[i]! : 1;
  }
  const k = kernelsFor(logits.data);
  const lse = empty(rows, logits.dtype);
  const wd = w && logits.dtype === "f64" && !(w instanceof Float64Array) ? Float64Array.from(w) : w;
  const grad = needsGrad(logits);
  // With a gradient to come, the forward writes it (for an upstream gradient of 1: the usual
  // root loss): f_i·(softmax − onehot) with f_i = w_i / Σw. The backward then only scales it
  // when the upstream gradient is not 1, instead of another pass over the logits.
  const g = grad ? (opts.overwriteLogits ? logits.data : empty(rows * V, logits.dtype)) : null;
  let f: Data | null = null;
  if (grad) {
    f = empty(rows, logits.dtype);
    for (let i = 0; i < rows; i++) f[i] = tg[i]! >= 0 && total > 0 ? (w ? w[i]! : 1) / total : 0;
  }
  const wdat = wd as Data | null;
  const lossSum = k.crossEntropyFwd(logits.data, tg, wdat, lse, rows, V, g, f);
  const y = empty(1, logits.dtype);
  y[0] = total > 0 ? lossSum / total : 0;
  const res = out(op, y, [], grad);
  if (res.requiresGrad) {
    record(() => {
      if (!res.grad || total === 0 || !g) return;
      const up = res.grad[0]!;
      if (up !== 1) k.scaleInPlace(g, up, g.length);
      if (logits.grad || logits.persistent) addInto(logits.ensureGrad(), g);
      else logits.grad = g;
      checkedGrad(op, logits.grad);
    });
  }
  return checked(op, res);
}

// ---------------------------------------------------------------------------------------------
// Shape ops

/** Splits the last axis into consecutive pieces of the given sizes (copies). */
export function splitLast(x: Tensor, sizes: number[]): Tensor[] {
  const op = "splitLast";
  const C = x.dim(-1);
  if (sizes.reduce((a, b) => a + b, 0) !== C) {
    shapeError(op, `sizes [${sizes}] do not add up to the last axis ${C}`, x);
  }
  const rows = x.size / C;
  const outs: Tensor[] = [];
  let off = 0;
  for (const s of sizes) {
    const y = empty(rows * s, x.dtype);
    for (let r = 0; r < rows; r++) y.set(x.data.subarray(r * C + off, r * C + off + s), r * s);
    const res = out(op, y, [...x.shape.slice(0, -1), s], needsGrad(x));
    if (res.requiresGrad) {
      const o = off;
      record(() => {
        if (!res.grad) return;
        const g = x.ensureGrad();
        for (let r = 0; r < rows; r++) {
          for (let i = 0; i < s; i++) g[r * C + o + i]! += res.grad[r * s + i]!;
        }
      });
    }
    outs.push(res);
    off += s;
  }
  return outs;
}
