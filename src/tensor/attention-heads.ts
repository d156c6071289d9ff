/**
 * The per-head products of causal attention (attention.ts has the maths), for a range of units:
 * a unit is one key/value head of one batch entry with its `group` query heads, so the heads
 * that add into the same dK and dV are always done together, in a fixed order, whoever runs
 * the unit. Two callers: attention.ts for all units at once (any backend, float32 or float64),
 * and the kernel pool's threads, each calling OpenBLAS single-threaded on its share of the
 * units (wasm/host-kernels.ts).
 *
 * Causal blocks: T is cut into row blocks of Tb; row block i only needs key blocks ≤ i, so the
 * products skip the masked upper triangle of blocks. Each row block's scores live only in a
 * small scratch (Tb × T, in cache): the forward keeps each row's softmax max and 1/sum, and the
 * backward recomputes the scores and rebuilds the probabilities exactly from them, so no T×T
 * matrix per head is ever stored (FlashAttention's recomputation, by row block). That costs one
 * more Q Kᵀ product in the backward and saves writing and reading back B·H·T² floats.
 */
import type { Data } from "./tensor.js";

/**
 * One attention call in element offsets: head h of batch entry b starts at
 * q + b·T·qld + h·hs in Q (likewise K, V and Y with kv head ⌊h / group⌋ in K and V). `saved`
 * is what the forward keeps for the backward, from offset `sv`: here two floats per row of
 * each head (the softmax's max and 1/sum, 2·B·H·T in all); the wasm kernels of the portable
 * backend keep their T×T probabilities per head there instead.
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
  saved: Data;
  sv: number;
  B: number;
  T: number;
  H: number;
  Hkv: number;
  hs: number;
  scale: number;
}

/** The backward's operands: dY in Y's layout, gQ/gK/gV in Q/K/V's (null: not wanted). */
export interface HeadGrads {
  dY: Data;
  dy: number;
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
  /**
   * Causal softmax in place over `rows` rows of scores (stride ld) that start at global row
   * row0: row g sees columns 0..g, which become p = exp(scale·(s − m))·inv; columns g+1 up to
   * `width` become 0. Keeps m and inv at stats[st + 2g], stats[st + 2g + 1].
   */
  softmaxRows(
    S: Data,
    s: number,
    ld: number,
    rows: number,
    row0: number,
    width: number,
    scale: number,
    stats: Data,
    st: number,
  ): void;
  /**
   * The backward of softmaxRows on the same rows: rebuilds p from the scores and stats (over S)
   * and turns dP into dS = scale·p·(dP − Σ p·dP) (both 0 from column g+1 up to width).
   */
  softmaxGradRows(
    S: Data,
    s: number,
    dS: Data,
    d: number,
    ld: number,
    rows: number,
    row0: number,
    width: number,
    scale: number,
    stats: Data,
    st: number,
  ): void;
}

/** The causal block size: 64 where T is a larger multiple of it, else all of T. */
export function causalBlock(T: number): number {
  return T % 64 === 0 && T > 64 ? 64 : T;
}

/** Floats the forward keeps for the backward (in `saved`). */
export function savedFloats(B: number, H: number, T: number): number {
  return 2 * B * H * T;
}

/** Scratch floats one thread needs (two row blocks of scores). */
export function scratchFloats(T: number): number {
  return 2 * causalBlock(T) * T;
}

/** Where unit u's heads live: a function of the query head index within the group. */
function unitHeads(c: Heads, u: number) {
  const group = c.H / c.Hkv;
  const b = Math.floor(u / c.Hkv);
  const kvh = u % c.Hkv;
  const kvRow = b * c.T;
  return {
    k: c.k + kvRow * c.kld + kvh * c.hs,
    v: c.v + kvRow * c.vld + kvh * c.hs,
    /** Offsets of query head g of the unit: in Q, in Y, and of its softmax stats. */
    head(g: number) {
      const h = kvh * group + g;
      return {
        q: kvRow * c.qld + h * c.hs,
        y: kvRow * c.yld + h * c.hs,
        st: c.sv + (b * c.H + h) * 2 * c.T,
      };
    },
  };
}

/**
 * Y for units [u0, u1), one row block at a time: S = Q Kᵀ into scratch, its causal softmax
 * (keeping max and 1/sum per row), Y = P V. No T×T matrix is stored.
 */
export function headsForward(
  c: Heads,
  ops: HeadKernels,
  scratch: Data,
  sc: number,
  u0: number,
  u1: number,
): void {
  const { T, hs } = c;
  const Tb = causalBlock(T);
  const group = c.H / c.Hkv;
  for (let u = u0; u < u1; u++) {
    const at = unitHeads(c, u);
    for (let g = 0; g < group; g++) {
      const h = at.head(g);
      for (let r0 = 0; r0 < T; r0 += Tb) {
        // rows r0..r0+Tb see keys 0..n (the causal blocks up to the diagonal)
        const n = r0 + Tb;
        const q = c.q + h.q + r0 * c.qld;
        ops.gemm(false, true, Tb, n, hs, c.Q, q, c.qld, c.K, at.k, c.kld, 0, scratch, sc, n);
        ops.softmaxRows(scratch, sc, n, Tb, r0, n, c.scale, c.saved, h.st);
        const y = c.y + h.y + r0 * c.yld;
        ops.gemm(false, false, Tb, hs, n, scratch, sc, n, c.V, at.v, c.vld, 0, c.Y, y, c.yld);
      }
    }
  }
}

/**
 * Gradients for units [u0, u1), added into gQ, gK, gV, one row block at a time: S = Q Kᵀ again
 * and dP = dY Vᵀ into scratch, P and dS from the kept softmax stats, then dV += Pᵀ dY,
 * dQ += dS K, dK += dSᵀ Q.
 */
export function headsBackward(
  c: Heads,
  d: HeadGrads,
  ops: HeadKernels,
  scratch: Data,
  sc: number,
  u0: number,
  u1: number,
): void {
  const { T, hs } = c;
  const Tb = causalBlock(T);
  const group = c.H / c.Hkv;
  const S = sc;
  const dS = sc + Tb * T;
  for (let u = u0; u < u1; u++) {
    const at = unitHeads(c, u);
    for (let g = 0; g < group; g++) {
      const h = at.head(g);
      for (let r0 = 0; r0 < T; r0 += Tb) {
        const n = r0 + Tb;
        const q = c.q + h.q + r0 * c.qld;
        const dy = d.dy + h.y + r0 * c.yld;
        ops.gemm(false, true, Tb, n, hs, c.Q, q, c.qld, c.K, at.k, c.kld, 0, scratch, S, n);
        ops.gemm(false, true, Tb, n, hs, d.dY, dy, c.yld, c.V, at.v, c.vld, 0, scratch, dS, n);
        ops.softmaxGradRows(scratch, S, scratch, dS, n, Tb, r0, n, c.scale, c.saved, h.st);
        if (d.gV) {
          const gv = d.gv - c.v + at.v;
          ops.gemm(true, false, n, hs, Tb, scratch, S, n, d.dY, dy, c.yld, 1, d.gV, gv, c.vld);
        }
        if (d.gQ) {
          const gq = d.gq + h.q + r0 * c.qld;
          ops.gemm(false, false, Tb, hs, n, scratch, dS, n, c.K, at.k, c.kld, 1, d.gQ, gq, c.qld);
        }
        if (d.gK) {
          const gk = d.gk - c.k + at.k;
          ops.gemm(true, false, n, hs, Tb, scratch, dS, n, c.Q, q, c.qld, 1, d.gK, gk, c.kld);
        }
      }
    }
  }
}

/** softmaxRows and softmaxGradRows in plain loops, for any float type. */
export const jsSoftmaxRows: Pick<HeadKernels, "softmaxRows" | "softmaxGradRows"> = {
  softmaxRows(S, s, ld, rows, row0, width, scale, stats, st) {
    for (let r = 0; r < rows; r++) {
      const o = s + r * ld;
      const n = Math.min(width, row0 + r + 1);
      let m = -Infinity;
      for (let j = 0; j < n; j++) m = Math.max(m, S[o + j]!);
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp(scale * (S[o + j]! - m));
        S[o + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < n; j++) S[o + j]! *= inv;
      S.fill(0, o + n, o + width);
      stats[st + 2 * (row0 + r)] = m;
      stats[st + 2 * (row0 + r) + 1] = inv;
    }
  },
  softmaxGradRows(S, s, dS, d, ld, rows, row0, width, scale, stats, st) {
    for (let r = 0; r < rows; r++) {
      const o = s + r * ld;
      const od = d + r * ld;
      const n = Math.min(width, row0 + r + 1);
      const m = stats[st + 2 * (row0 + r)]!;
      const inv = stats[st + 2 * (row0 + r) + 1]!;
      let dot = 0;
      for (let j = 0; j < n; j++) {
        const p = Math.exp(scale * (S[o + j]! - m)) * inv;
        S[o + j] = p;
        dot += p * dS[od + j]!;
      }
      for (let j = 0; j < n; j++) dS[od + j] = scale * S[o + j]! * (dS[od + j]! - dot);
      S.fill(0, o + n, o + width);
      dS.fill(0, od + n, od + width);
    }
  },
};
