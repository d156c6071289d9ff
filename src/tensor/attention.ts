/**
 * Causal multi-head self-attention as one op with a hand-written backward, with grouped-query
 * attention (several query heads share one key/value head) and rotary position embeddings.
 *
 *   q: [B, T, H·hs]   k, v: [B, T, Hkv·hs]   →   y: [B, T, H·hs]
 *
 * Per batch entry b and head h (key/value head h / (H/Hkv)):
 *   S = Q Kᵀ / √hs, masked to the past (causal), P = softmax(S), O = P V.
 * Backward: dP = dO Vᵀ, dV += Pᵀ dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √hs, dQ = dS K, dK += dSᵀ Q.
 * The per-head loops are in attention-heads.ts: P is kept from the forward pass, its causal blocks
 * only (the portable wasm kernels keep all B·H·T² numbers).
 *
 * RoPE follows HF Llama ("rotate half"): for i < hs/2, with angle θ = pos · base^(−2i/hs),
 *   x'ᵢ = xᵢ cos θ − x_{i+hs/2} sin θ,   x'_{i+hs/2} = x_{i+hs/2} cos θ + xᵢ sin θ.
 */
import {
  type HeadGrads,
  type HeadKernels,
  type Heads,
  headsBackward,
  headsForward,
  savedFloats,
  scratchFloats,
} from "./attention-heads.js";
import { gemm } from "./backend.js";
import { kernelsFor } from "./kernels.js";
import {
  checked,
  checkedGrad,
  type Data,
  empty,
  needsGrad,
  record,
  shapeError,
  Tensor,
} from "./tensor.js";

export interface Rope {
  /** cos θ and sin θ, [T, hs/2] each (positions 0..T-1). */
  cos: Data;
  sin: Data;
}

/** RoPE tables for positions 0..T-1 and head size hs (base 10000 as in Llama). */
export function ropeTables(T: number, hs: number, base = 10000, f64 = false): Rope {
  const h = hs / 2;
  const cos = f64 ? new Float64Array(T * h) : new Float32Array(T * h);
  const sin = f64 ? new Float64Array(T * h) : new Float32Array(T * h);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < h; i++) {
      const a = t * base ** (-(2 * i) / hs);
      cos[t * h + i] = Math.cos(a);
      sin[t * h + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

export interface AttentionOptions {
  nHead: number;
  /** Key/value heads (GQA); defaults to nHead. Must divide nHead. */
  nKvHead?: number;
  /** Rotary embeddings applied to q and k. */
  rope?: Rope | null;
}

/**
 * Rotates the heads of x ([B, T, nh·hs] with row stride ld, first head at offset off) by +θ
 * (forward) or −θ (backward), writing into y (same layout, may alias x).
 */
function rotate(
  x: Data,
  y: Data,
  off: number,
  ld: number,
  B: number,
  T: number,
  nh: number,
  hs: number,
  rope: Rope,
  sign: 1 | -1,
): void {
  const h = hs / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = off + (b * T + t) * ld;
      const r = t * h;
      for (let j = 0; j < nh; j++) {
        const o = row + j * hs;
        for (let i = 0; i < h; i++) {
          const c = rope.cos[r + i]!;
          const s = sign * rope.sin[r + i]!;
          const a = x[o + i]!;
          const bb = x[o + i + h]!;
          y[o + i] = a * c - bb * s;
          y[o + i + h] = bb * c + a * s;
        }
      }
    }
  }
}

/** A faster implementation of the per-head work for float32 (the wasm backend installs them). */
export interface FusedAttention {
  /** Whether these shapes and buffers can be handled (null buffers are absent gradients). */
  supports(hs: number, T: number, ...data: (Data | null)[]): boolean;
  /** Floats of `saved` the forward fills for the backward. */
  savedFloats(B: number, H: number, T: number): number;
  /** Y (and `saved`) from Q, K, V. */
  forward(c: Heads): void;
  /** Adds into gQ, gK, gV (each may be null) from dY = Y's gradient. */
  backward(c: Heads, d: HeadGrads): void;
}

let fused: (() => FusedAttention | null) | null = null;

/**
 * Installs (or with null removes) the chooser of the fused attention for float32 data; it is
 * asked once per forward, and the backward runs on the implementation the forward used.
 */
export function setFusedAttention(choose: (() => FusedAttention | null) | null): void {
  fused = choose;
}

/** The installed chooser of the fused attention, if any. */
export function fusedAttention(): (() => FusedAttention | null) | null {
  return fused;
}

/**
 * One call of decoding attention over a KV cache (see infer/kv-cache.ts): q rows r = b·n + i
 * start at q[qOff + r·qStride]; K, V are one layer's cache [B, nCtx, kvDim]; out is
 * [B·n, nHead·hs], overwritten.
 */
export interface CachedAttentionCall {
  q: Float32Array;
  qOff: number;
  qStride: number;
  K: Float32Array;
  V: Float32Array;
  kvDim: number;
  nCtx: number;
  out: Float32Array;
  B: number;
  n: number;
  t0: number;
  nHead: number;
  nKvHead: number;
  hs: number;
}

/** A faster cached attention: returns false when it cannot take these buffers or shapes. */
export type CachedAttention = (c: CachedAttentionCall) => boolean;

let cached: CachedAttention | null = null;

/** Installs (or with null removes) the fast decoding attention (the wasm kernels install one). */
export function setCachedAttention(f: CachedAttention | null): void {
  cached = f;
}

/** The installed fast decoding attention, if any. */
export function cachedAttention(): CachedAttention | null {
  return cached;
}

interface View {
  t: Tensor;
  /** Offset of head 0 in each row, and the row stride. */
  off: number;
  ld: number;
}

/**
 * Causal self-attention; see the file comment for shapes and maths.
 * q: [B, T, H·hs]; k, v: [B, T, Hkv·hs]; returns [B, T, H·hs].
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): Tensor {
  const op = "attention";
  const H = opts.nHead;
  const Hkv = opts.nKvHead ?? H;
  if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3) {
    shapeError(op, "q, k, v must be [B, T, C]", q, k, v);
  }
  const [B, T, Cq] = q.shape as [number, number, number];
  const hs = Cq / H;
  if (!Number.isInteger(hs) || H % Hkv !== 0) {
    shapeError(op, `q's last axis must split into ${H} heads and ${Hkv} must divide ${H}`, q, k, v);
  }
  const Ckv = Hkv * hs;
  for (const t of [k, v]) {
    if (t.dim(0) !== B || t.dim(1) !== T || t.dim(2) !== Ckv) {
      const why = `k and v must be [${B}, ${T}, ${Ckv}] for ${Hkv} kv heads of size ${hs}`;
      shapeError(op, why, q, k, v);
    }
  }
  return core(
    op,
    { t: q, off: 0, ld: Cq },
    { t: k, off: 0, ld: Ckv },
    { t: v, off: 0, ld: Ckv },
    B,
    T,
    H,
    Hkv,
    hs,
    opts.rope ?? null,
  );
}

/**
 * The same attention on one packed projection qkv: [B, T, (H + 2·Hkv)·hs] holding q, k, v side
 * by side (GPT-2's c_attn output). Reads the heads in place: no split copies.
 */
export function attentionPacked(qkv: Tensor, opts: AttentionOptions & { headSize: number }) {
  const op = "attention";
  const H = opts.nHead;
  const Hkv = opts.nKvHead ?? H;
  const hs = opts.headSize;
  const C = (H + 2 * Hkv) * hs;
  if (qkv.ndim !== 3 || qkv.dim(2) !== C || H % Hkv !== 0) {
    shapeError(op, `packed qkv must be [B, T, ${C}] for ${H}+2·${Hkv} heads of size ${hs}`, qkv);
  }
  const [B, T] = qkv.shape as [number, number, number];
  return core(
    op,
    { t: qkv, off: 0, ld: C },
    { t: qkv, off: H * hs, ld: C },
    { t: qkv, off: (H + Hkv) * hs, ld: C },
    B,
    T,
    H,
    Hkv,
    hs,
    opts.rope ?? null,
  );
}

function core(
  op: string,
  q: View,
  k: View,
  v: View,
  B: number,
  T: number,
  H: number,
  Hkv: number,
  hs: number,
  rope: Rope | null,
): Tensor {
  if (rope && (rope.cos.length < T * (hs / 2) || hs % 2 !== 0)) {
    shapeError(op, `rope tables too small for T=${T}, head size ${hs}`, q.t);
  }
  const dt = q.t.dtype;
  const scale = 1 / Math.sqrt(hs);
  const Cq = H * hs;
  // with RoPE, q and k are rotated into scratch copies of the same layout
  let Q: Data = q.t.data;
  let K: Data = k.t.data;
  if (rope) {
    Q = empty(q.t.size, dt);
    K = empty(k.t.size, dt);
    rotate(q.t.data, Q, q.off, q.ld, B, T, H, hs, rope, 1);
    rotate(k.t.data, K, k.off, k.ld, B, T, Hkv, hs, rope, 1);
  }
  const V = v.t.data;
  const y = empty(B * T * Cq, dt);
  const impl = dt === "f32" ? (fused?.() ?? null) : null;
  const fast = impl?.supports(hs, T, Q, K, V, y) ? impl : null;
  const heads: Heads = {
    Q,
    q: q.off,
    qld: q.ld,
    K,
    k: k.off,
    kld: k.ld,
    V,
    v: v.off,
    vld: v.ld,
    Y: y,
    y: 0,
    yld: Cq,
    saved: empty(fast ? fast.savedFloats(B, H, T) : savedFloats(B, H, T), dt),
    sv: 0,
    B,
    T,
    H,
    Hkv,
    hs,
    scale,
  };
  const units = B * Hkv;
  if (fast) fast.forward(heads);
  else headsForward(heads, backendHeadKernels(), 0, units);
  const res = new Tensor(y, [B, T, Cq], needsGrad(q.t, k.t, v.t), op);
  if (res.requiresGrad) {
    record(() => {
      const dy = res.grad;
      if (!dy) return;
      const need = [q, k, v].map((x) => x.t.requiresGrad);
      // gradients go straight into the inputs' grads (same layout), or into zeroed scratch
      // copies first when RoPE has to rotate them back
      const gq = need[0] ? (rope ? zeroed(q.t.size, dt) : q.t.ensureGrad()) : null;
      const gk = need[1] ? (rope ? zeroed(k.t.size, dt) : k.t.ensureGrad()) : null;
      const gv = need[2] ? v.t.ensureGrad() : null;
      const grads: HeadGrads = {
        dY: dy,
        dy: 0,
        gQ: gq,
        gq: q.off,
        gK: gk,
        gk: k.off,
        gV: gv,
        gv: v.off,
      };
      if (fast?.supports(hs, T, dy, gq, gk, gv)) fast.backward(heads, grads);
      else {
        const ops = backendHeadKernels();
        let c = heads;
        if (fast) {
          // the fast forward kept P in its own layout: redo the forward in the loops' layout
          const saved = empty(savedFloats(B, H, T), dt);
          c = { ...heads, saved, Y: empty(y.length, dt) };
          headsForward(c, ops, 0, units);
        }
        headsBackward(c, grads, ops, empty(scratchFloats(T), dt), 0, 0, units);
      }
      if (rope) {
        if (gq) rotate(gq, gq, q.off, q.ld, B, T, H, hs, rope, -1);
        if (gk) rotate(gk, gk, k.off, k.ld, B, T, Hkv, hs, rope, -1);
        if (gq) addHeads(gq, q.t.ensureGrad(), q.off, q.ld, B * T, H * hs);
        if (gk) addHeads(gk, k.t.ensureGrad(), k.off, k.ld, B * T, Hkv * hs);
      }
      checkedGrad(op, q.t.grad);
      checkedGrad(op, k.t.grad);
      checkedGrad(op, v.t.grad);
    });
  }
  return checked(op, res);
}

function zeroed(n: number, dt: "f32" | "f64"): Data {
  const d = empty(n, dt);
  d.fill(0);
  return d;
}

/** The per-head products on the active matmul backend and the row kernels for the data. */
function backendHeadKernels(): HeadKernels {
  return {
    gemm: (tA, tB, M, N, K, A, a, lda, B, b, ldb, beta, C, c, ldc) =>
      gemm(tA, tB, M, N, K, 1, A.subarray(a), B.subarray(b), beta, C.subarray(c), lda, ldb, ldc),
    softmaxRows: (S, s, rows, width, row0, scale) => {
      const x = S.subarray(s, s + rows * width);
      kernelsFor(x).softmaxFwd(x, x, rows, width, scale, rows, row0);
    },
    softmaxGradRows: (P, p, dS, d, rows, width, row0, scale) => {
      const dx = dS.subarray(d, d + rows * width);
      const y = P.subarray(p, p + rows * width);
      kernelsFor(dx).softmaxBwd(y, dx, dx, rows, width, scale, rows, row0);
    },
  };
}

/** dst[row, off..off+w) += src[row, off..off+w) for every row (stride ld). */
function addHeads(src: Data, dst: Data, off: number, ld: number, rows: number, w: number) {
  for (let r = 0; r < rows; r++) {
    const o = off + r * ld;
    for (let i = 0; i < w; i++) dst[o + i]! += src[o + i]!;
  }
}
