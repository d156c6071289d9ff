/**
 * The per-head products of causal attention (attention.ts has the maths), for a range of units:
 * a unit is one key/value head of one batch entry with its `group` query heads, so the heads
 * that add into the same dK and dV are always done together, in a fixed order, whoever runs
 * the unit. Two callers: attention.ts for all units at once (any backend, float32 or float64),
 * and the kernel pool's threads, each calling OpenBLAS single-threaded on its share of the
 * units (wasm/host-kernels.ts).
 *
 * Causal blocks: T is cut into row blocks of Tb; row block i only needs key blocks ≤ i, so the
 * products skip the masked upper triangle of blocks, and P is kept compactly (block i as
 * Tb × (i+1)·Tb: 62.5% of T² at T = 4 Tb). In the backward, dP for a row block lives in a small
 * scratch (Tb × T, in cache), and the softmax's backward touches the block's P first, so the
 * products after it find both in cache. (Recomputing P in the backward instead, FlashAttention's
 * way, measured no faster here: it costs one more Q Kᵀ product with depth = head size and one
 * more exp per score, against writing and reading back 21 MB per layer at the reference shape.)
 */
import type { Data } from "./tensor.js";

/**
 * One attention call in element offsets: head h of batch entry b starts at
 * q + b·T·qld + h·hs in Q (likewise K, V and Y with kv head ⌊h / group⌋ in K and V). `saved`
 * is what the forward keeps for the backward, from offset `sv`: here each head's causal blocks
 * of probabilities (`savedFloats`); the wasm kernels of the portable backend keep their full
 * T×T probabilities per head there instead.
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
   * Causal softmax in place over one row block (`rows` rows of `width` scores, contiguous) whose
   * first row is row0 of the sequence: row g sees columns 0..g, the rest become 0.
   */
  softmaxRows(S: Data, s: number, rows: number, width: number, row0: number, scale: number): void;
  /** Its backward: dP (in place) becomes dS = scale·p·(dP − Σ p·dP) from the block's P. */
  softmaxGradRows(
    P: Data,
    p: number,
    dS: Data,
    d: number,
    rows: number,
    width: number,
    row0: number,
    scale: number,
  ): void;
}

/** The causal block size: 64 where T is a larger multiple of it, else all of T. */
export function causalBlock(T: number): number {
  return T % 64 === 0 && T > 64 ? 64 : T;
}

/** Floats of one head's causal blocks of probabilities: Σ_i Tb·(i+1)·Tb. */
function blockFloats(T: number): number {
  const Tb = causalBlock(T);
  const nb = T / Tb;
  return (Tb * Tb * nb * (nb + 1)) / 2;
}

/** Floats the forward keeps for the backward (in `saved`). */
export function savedFloats(B: number, H: number, T: number): number {
  return B * H * blockFloats(T);
}

/** Scratch floats one thread needs in the backward (a row block of dP). */
export function scratchFloats(T: number): number {
  return causalBlock(T) * T;
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
    /** Offsets of query head g of the unit: in Q, in Y, and of its probabilities in saved. */
    head(g: number) {
      const h = kvh * group + g;
      return {
        q: kvRow * c.qld + h * c.hs,
        y: kvRow * c.yld + h * c.hs,
        p: c.sv + (b * c.H + h) * blockFloats(c.T),
      };
    },
  };
}

/**
 * Visits the causal row blocks of every query head of units [u0, u1), in a fixed order: the
 * block's first row r0, its width n = r0 + Tb (keys 0..n: the causal blocks up to the diagonal),
 * and element offsets of the head's rows r0.. in Q and Y, of its kv head in K and V, and of the
 * block's probabilities in `saved` (block i stored as Tb × n).
 */
function forEachBlock(
  c: Heads,
  u0: number,
  u1: number,
  visit: (b: {
    r0: number;
    n: number;
    q: number;
    y: number;
    k: number;
    v: number;
    p: number;
  }) => void,
): void {
  const Tb = causalBlock(c.T);
  const group = c.H / c.Hkv;
  for (let u = u0; u < u1; u++) {
    const at = unitHeads(c, u);
    for (let g = 0; g < group; g++) {
      const h = at.head(g);
      let p = h.p;
      for (let r0 = 0; r0 < c.T; r0 += Tb) {
        const n = r0 + Tb;
        visit({ r0, n, q: h.q + r0 * c.qld, y: h.y + r0 * c.yld, k: at.k, v: at.v, p });
        p += Tb * n;
      }
    }
  }
}

/** Y (and P, in `saved`) for units [u0, u1): S = Q Kᵀ, P = causal softmax(scale·S), Y = P V. */
export function headsForward(c: Heads, ops: HeadKernels, u0: number, u1: number): void {
  const Tb = causalBlock(c.T);
  const P = c.saved;
  forEachBlock(c, u0, u1, ({ r0, n, q, y, k, v, p }) => {
    ops.gemm(false, true, Tb, n, c.hs, c.Q, c.q + q, c.qld, c.K, k, c.kld, 0, P, p, n);
    ops.softmaxRows(P, p, Tb, n, r0, c.scale);
    ops.gemm(false, false, Tb, c.hs, n, P, p, n, c.V, v, c.vld, 0, c.Y, c.y + y, c.yld);
  });
}

/**
 * Gradients for units [u0, u1), added into gQ, gK, gV, one row block at a time: dP = dY Vᵀ into
 * scratch, dS from it and the kept P, then dV += Pᵀ dY, dQ += dS K, dK += dSᵀ Q.
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
  const { hs } = c;
  const Tb = causalBlock(c.T);
  const P = c.saved;
  forEachBlock(c, u0, u1, ({ r0, n, q, y, k, v, p }) => {
    const dy = d.dy + y;
    ops.gemm(false, true, Tb, n, hs, d.dY, dy, c.yld, c.V, v, c.vld, 0, scratch, sc, n);
    ops.softmaxGradRows(P, p, scratch, sc, Tb, n, r0, c.scale);
    if (d.gV) {
      const gv = d.gv - c.v + v;
      ops.gemm(true, false, n, hs, Tb, P, p, n, d.dY, dy, c.yld, 1, d.gV, gv, c.vld);
    }
    if (d.gQ) {
      const gq = d.gq + q;
      ops.gemm(false, false, Tb, hs, n, scratch, sc, n, c.K, k, c.kld, 1, d.gQ, gq, c.qld);
    }
    if (d.gK) {
      const gk = d.gk - c.k + k;
      ops.gemm(true, false, n, hs, Tb, scratch, sc, n, c.Q, c.q + q, c.qld, 1, d.gK, gk, c.kld);
    }
  });
}
