/**
 * Causal multi-head self-attention as one op with a hand-written backward, with grouped-query
 * attention (several query heads share one key/value head) and rotary position embeddings.
 *
 *   q: [B, T, H·hs]   k, v: [B, T, Hkv·hs]   →   y: [B, T, H·hs]
 *
 * Per batch entry b and head h (key/value head h / (H/Hkv)):
 *   S = Q Kᵀ / √hs, masked to the past (causal), P = softmax(S), O = P V.
 * Backward: dP = dO Vᵀ, dV += Pᵀ dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √hs, dQ = dS K, dK += dSᵀ Q.
 * P is kept from the forward pass (B·H·T² numbers).
 *
 * RoPE follows HF Llama ("rotate half"): for i < hs/2, with angle θ = pos · base^(−2i/hs),
 *   x'ᵢ = xᵢ cos θ − x_{i+hs/2} sin θ,   x'_{i+hs/2} = x_{i+hs/2} cos θ + xᵢ sin θ.
 */
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

/** Copies [B, T, nh·hs] (row stride C) into head-major [B, nh, T, hs]. */
function toHeads(src: Data, dst: Data, B: number, T: number, nh: number, hs: number): void {
  const C = nh * hs;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const so = (b * T + t) * C;
      for (let h = 0; h < nh; h++) {
        dst.set(src.subarray(so + h * hs, so + h * hs + hs), ((b * nh + h) * T + t) * hs);
      }
    }
  }
}

/** Adds head-major [B, nh, T, hs] into [B, T, nh·hs]. */
function addFromHeads(src: Data, dst: Data, B: number, T: number, nh: number, hs: number) {
  const C = nh * hs;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      for (let t = 0; t < T; t++) {
        const so = ((b * nh + h) * T + t) * hs;
        const d = (b * T + t) * C + h * hs;
        for (let i = 0; i < hs; i++) dst[d + i]! += src[so + i]!;
      }
    }
  }
}

/** Rotates head-major [n, T, hs] in place by +θ (forward) or −θ (backward). */
function rotate(x: Data, n: number, T: number, hs: number, rope: Rope, sign: 1 | -1): void {
  const h = hs / 2;
  for (let j = 0; j < n; j++) {
    for (let t = 0; t < T; t++) {
      const o = (j * T + t) * hs;
      const r = t * h;
      for (let i = 0; i < h; i++) {
        const c = rope.cos[r + i]!;
        const s = sign * rope.sin[r + i]!;
        const a = x[o + i]!;
        const b = x[o + i + h]!;
        x[o + i] = a * c - b * s;
        x[o + i + h] = b * c + a * s;
      }
    }
  }
}

/** Causal self-attention; see the file comment for shapes and maths. */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): Tensor {
  const op = "attention";
  const H = opts.nHead;
  const Hkv = opts.nKvHead ?? H;
  if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3)
    shapeError(op, "q, k, v must be [B, T, C]", q, k, v);
  const [B, T, Cq] = q.shape as [number, number, number];
  const hs = Cq / H;
  if (!Number.isInteger(hs) || H % Hkv !== 0) {
    shapeError(op, `q's last axis must split into ${H} heads and ${Hkv} must divide ${H}`, q, k, v);
  }
  const Ckv = Hkv * hs;
  for (const t of [k, v]) {
    if (t.dim(0) !== B || t.dim(1) !== T || t.dim(2) !== Ckv) {
      shapeError(
        op,
        `k and v must be [${B}, ${T}, ${Ckv}] for ${Hkv} kv heads of size ${hs}`,
        q,
        k,
        v,
      );
    }
  }
  const rope = opts.rope ?? null;
  if (rope && (rope.cos.length < T * (hs / 2) || hs % 2 !== 0)) {
    shapeError(op, `rope tables too small for T=${T}, head size ${hs}`, q);
  }
  const dt = q.dtype;
  const kern = kernelsFor(q.data);
  const group = H / Hkv;
  const scale = 1 / Math.sqrt(hs);
  const Q = empty(B * H * T * hs, dt);
  const K = empty(B * Hkv * T * hs, dt);
  const V = empty(B * Hkv * T * hs, dt);
  toHeads(q.data, Q, B, T, H, hs);
  toHeads(k.data, K, B, T, Hkv, hs);
  toHeads(v.data, V, B, T, Hkv, hs);
  if (rope) {
    rotate(Q, B * H, T, hs, rope, 1);
    rotate(K, B * Hkv, T, hs, rope, 1);
  }
  const P = empty(B * H * T * T, dt);
  const O = empty(B * H * T * hs, dt);
  const TT = T * T;
  const Ths = T * hs;
  // S = Q Kᵀ for every head, then one causal softmax over all B·H·T rows, then O = P V
  const head = (bh: number) => [bh * Ths, (bh + 1) * Ths] as const;
  const kvOf = (bh: number) => Math.floor(bh / H) * Hkv + Math.floor((bh % H) / group);
  for (let bh = 0; bh < B * H; bh++) {
    const P_ = P.subarray(bh * TT, (bh + 1) * TT);
    gemm(false, true, T, T, hs, 1, Q.subarray(...head(bh)), K.subarray(...head(kvOf(bh))), 0, P_);
  }
  kern.softmaxFwd(P, P, B * H * T, T, scale, T);
  for (let bh = 0; bh < B * H; bh++) {
    const P_ = P.subarray(bh * TT, (bh + 1) * TT);
    gemm(false, false, T, hs, T, 1, P_, V.subarray(...head(kvOf(bh))), 0, O.subarray(...head(bh)));
  }
  const y = empty(B * T * Cq, dt);
  y.fill(0);
  addFromHeads(O, y, B, T, H, hs);
  const res = new Tensor(y, [B, T, Cq], needsGrad(q, k, v), op);
  if (res.requiresGrad) {
    record(() => {
      if (!res.grad) return;
      const dO = O; // reuse: O is no longer needed
      toHeads(res.grad, dO, B, T, H, hs);
      const dQ = empty(B * H * T * hs, dt);
      const dK = empty(B * Hkv * T * hs, dt);
      const dV = empty(B * Hkv * T * hs, dt);
      dK.fill(0);
      dV.fill(0);
      // dP = dO Vᵀ and dV += Pᵀ dO per head; one softmax backward over all rows (dS in
      // place of dP); then dQ = dS K and dK += dSᵀ Q per head
      const dP = empty(B * H * TT, dt);
      for (let bh = 0; bh < B * H; bh++) {
        const kv = kvOf(bh);
        const P_ = P.subarray(bh * TT, (bh + 1) * TT);
        const dO_ = dO.subarray(...head(bh));
        gemm(
          false,
          true,
          T,
          T,
          hs,
          1,
          dO_,
          V.subarray(...head(kv)),
          0,
          dP.subarray(bh * TT, (bh + 1) * TT),
        );
        gemm(true, false, T, hs, T, 1, P_, dO_, 1, dV.subarray(...head(kv)));
      }
      kern.softmaxBwd(P, dP, dP, B * H * T, T, scale);
      for (let bh = 0; bh < B * H; bh++) {
        const kv = kvOf(bh);
        const dS = dP.subarray(bh * TT, (bh + 1) * TT);
        gemm(false, false, T, hs, T, 1, dS, K.subarray(...head(kv)), 0, dQ.subarray(...head(bh)));
        gemm(true, false, T, hs, T, 1, dS, Q.subarray(...head(bh)), 1, dK.subarray(...head(kv)));
      }
      if (rope) {
        rotate(dQ, B * H, T, hs, rope, -1);
        rotate(dK, B * Hkv, T, hs, rope, -1);
      }
      if (q.requiresGrad) addFromHeads(dQ, q.ensureGrad(), B, T, H, hs);
      if (k.requiresGrad) addFromHeads(dK, k.ensureGrad(), B, T, Hkv, hs);
      if (v.requiresGrad) addFromHeads(dV, v.ensureGrad(), B, T, Hkv, hs);
      checkedGrad(op, q.grad);
      checkedGrad(op, k.grad);
      checkedGrad(op, v.grad);
    });
  }
  return checked(op, res);
}
