/**
 * The per-head products of causal attention (attention.ts has the maths), for a range of units:
 * a unit is one key/value head of one batch entry with its `group` query heads, so the heads
 * that add into the same dK and dV are always done together, in a fixed order, whoever runs
 * the unit. Two callers: attention.ts for all units at once (any backend, float32 or float64),
 * and the kernel pool's threads, each calling OpenBLAS single-threaded on its share of the
 * units (wasm/host-kernels.ts).
 *
 * Causal blocks: T is cut into row blocks of Tb; row block i only needs key blocks ≤ i, so the
 * products skip the masked upper triangle of blocks.
 */
import type { Data } from "./tensor.js";

/**
 * One attention call in element offsets: head h of batch entry b starts at
 * q + b·T·qld + h·hs in Q (likewise K, V and Y with kv head ⌊h / group⌋ in K and V), and its
 * T×T block of probabilities at p + (b·H + h)·T² in P.
 */
export interface Heads {
  Q: Data;
  q: number;
  qld: number;
  K: Data;
  k: number;
  kld: number;
  V: Data;
  v: number;
  vld: number;
  Y: Data;
  y: number;
  yld: number;
  P: Data;
  p: number;
  B: number;
  T: number;
  H: number;
  Hkv: number;
  hs: number;
  scale: number;
}

/** The backward's operands: dY in Y's layout, dP in P's, gQ/gK/gV in Q/K/V's (null: not wanted). */
export interface HeadGrads {
  dY: Data;
  dy: number;
  dP: Data;
  dp: number;
  gQ: Data | null;
  gq: number;
  gK: Data | null;
  gk: number;
  gV: Data | null;
  gv: number;
}

/** What the loops need from a backend. Offsets are in elements. */
export interface HeadKernels {
  /** C (+)= op(A)·op(B), M×N, depth K: beta 0 overwrites C, beta 1 adds to it. */
  gemm(
    tA: boolean,
    tB: boolean,
    M: number,
    N: number,
    K: number,
    A: Data,
    a: number,
    lda: number,
    B: Data,
    b: number,
    ldb: number,
    beta: 0 | 1,
    C: Data,
    c: number,
    ldc: number,
  ): void;
  /** In place over one head's T×T block: row r becomes softmax(scale·S[r, 0..r]), zeros after. */
  softmaxFwd(P: Data, p: number, T: number, scale: number): void;
  /** dS = P ⊙ (dP − rowsum(dP ⊙ P))·scale in place of one head's dP block, zero above the diagonal. */
  softmaxBwd(P: Data, p: number, dP: Data, d: number, T: number, scale: number): void;
}

/** The causal block size: 64 where T is a larger multiple of it, else all of T. */
export function causalBlock(T: number): number {
  return T % 64 === 0 && T > 64 ? 64 : T;
}

/** Where unit u's heads live: a function of the query head index within the group. */
function unitHeads(c: Heads, u: number) {
  const group = c.H / c.Hkv;
  const b = Math.floor(u / c.Hkv);
  const kvh = u % c.Hkv;
  const kvRow = b * c.T;
  return {
    k: kvRow * c.kld + kvh * c.hs,
    v: kvRow * c.vld + kvh * c.hs,
    /** Offsets of query head g of the unit: in Q, in Y, and of its block in P. */
    head(g: number) {
      const h = kvh * group + g;
      return {
        q: kvRow * c.qld + h * c.hs,
        y: kvRow * c.yld + h * c.hs,
        p: (b * c.H + h) * c.T * c.T,
      };
    },
  };
}

/** Y and P for units [u0, u1): S = Q Kᵀ, P = causal softmax(scale·S), Y = P V. */
export function headsForward(c: Heads, ops: HeadKernels, u0: number, u1: number): void {
  const { T, hs } = c;
  const Tb = causalBlock(T);
  const group = c.H / c.Hkv;
  for (let u = u0; u < u1; u++) {
    const at = unitHeads(c, u);
    for (let g = 0; g < group; g++) {
      const h = at.head(g);
      for (let i = 0; i * Tb < T; i++) {
        // S[row block i, key blocks ≤ i] = Q Kᵀ
        const n = (i + 1) * Tb;
        const q = c.q + h.q + i * Tb * c.qld;
        const s = c.p + h.p + i * Tb * T;
        ops.gemm(false, true, Tb, n, hs, c.Q, q, c.qld, c.K, c.k + at.k, c.kld, 0, c.P, s, T);
      }
      ops.softmaxFwd(c.P, c.p + h.p, T, c.scale);
      for (let i = 0; i * Tb < T; i++) {
        // Y[row block i] = P[row block i, key blocks ≤ i] V
        const n = (i + 1) * Tb;
        const pi = c.p + h.p + i * Tb * T;
        const y = c.y + h.y + i * Tb * c.yld;
        ops.gemm(false, false, Tb, hs, n, c.P, pi, T, c.V, c.v + at.v, c.vld, 0, c.Y, y, c.yld);
      }
    }
  }
}

/**
 * Gradients for units [u0, u1), added into gQ, gK, gV: dP = dY Vᵀ, dV += Pᵀ dY, dS from the
 * softmax's backward (in place of dP), dQ += dS K, dK += dSᵀ Q.
 */
export function headsBackward(
  c: Heads,
  d: HeadGrads,
  ops: HeadKernels,
  u0: number,
  u1: number,
): void {
  const { T, hs } = c;
  const Tb = causalBlock(T);
  const nb = T / Tb;
  const group = c.H / c.Hkv;
  for (let u = u0; u < u1; u++) {
    const at = unitHeads(c, u);
    for (let g = 0; g < group; g++) {
      const h = at.head(g);
      const dy = d.dy + h.y;
      const dp = d.dp + h.p;
      const pb = c.p + h.p;
      for (let i = 0; i < nb; i++) {
        // dP[row block i, key blocks ≤ i] = dY Vᵀ
        const n = (i + 1) * Tb;
        const dyi = dy + i * Tb * c.yld;
        const dpi = dp + i * Tb * T;
        ops.gemm(false, true, Tb, n, hs, d.dY, dyi, c.yld, c.V, c.v + at.v, c.vld, 0, d.dP, dpi, T);
      }
      if (d.gV) {
        // dV[key block j] += P[rows ≥ j·Tb, block j]ᵀ dY[rows ≥ j·Tb]
        for (let j = 0; j < nb; j++) {
          const pj = pb + j * Tb * T + j * Tb;
          const dyj = dy + j * Tb * c.yld;
          const gv = d.gv + at.v + j * Tb * c.vld;
          ops.gemm(
            true,
            false,
            Tb,
            hs,
            T - j * Tb,
            c.P,
            pj,
            T,
            d.dY,
            dyj,
            c.yld,
            1,
            d.gV,
            gv,
            c.vld,
          );
        }
      }
      ops.softmaxBwd(c.P, pb, d.dP, dp, T, c.scale);
      if (d.gQ) {
        // dQ[row block i] += dS[row block i, key blocks ≤ i] K
        for (let i = 0; i < nb; i++) {
          const n = (i + 1) * Tb;
          const dsi = dp + i * Tb * T;
          const gq = d.gq + h.q + i * Tb * c.qld;
          ops.gemm(
            false,
            false,
            Tb,
            hs,
            n,
            d.dP,
            dsi,
            T,
            c.K,
            c.k + at.k,
            c.kld,
            1,
            d.gQ,
            gq,
            c.qld,
          );
        }
      }
      if (d.gK) {
        // dK[key block j] += dS[rows ≥ j·Tb, block j]ᵀ Q[rows ≥ j·Tb]
        for (let j = 0; j < nb; j++) {
          const dsj = dp + j * Tb * T + j * Tb;
          const qj = c.q + h.q + j * Tb * c.qld;
          const gk = d.gk + at.k + j * Tb * c.kld;
          ops.gemm(
            true,
            false,
            Tb,
            hs,
            T - j * Tb,
            d.dP,
            dsj,
            T,
            c.Q,
            qj,
            c.qld,
            1,
            d.gK,
            gk,
            c.kld,
          );
        }
      }
    }
  }
}
