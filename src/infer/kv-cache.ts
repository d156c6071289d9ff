/**
 * The KV cache and the attention that reads it, shared by every decoder family. Per layer it
 * holds keys and values [maxBatch, nCtx, nKvHead·hs]; new positions are appended, and each new
 * query (already rotated, for RoPE models) attends causally to every cached position up to its
 * own. Grouped-query attention: query head h reads key/value head ⌊h / (nHead / nKvHead)⌋.
 */

import { cachedAttention } from "../tensor/attention.js";
import { loadSgemv } from "../tensor/gemv.js";
import { alloc, persistent, release } from "../tensor/memory.js";
import { UserError } from "../util/errors.js";

/**
 * The checks every decoder's `step` makes before feeding n tokens for B rows at position pos:
 * shapes (a bug if wrong) and the context length (the user's prompt: a UserError).
 */
export function checkStep(
  ids: Int32Array,
  B: number,
  n: number,
  pos: number,
  prevB: number,
  maxBatch: number,
  nCtx: number,
): void {
  if (ids.length !== B * n) throw new Error(`decoder: ${ids.length} ids for B=${B}, n=${n}`);
  if (B > maxBatch) throw new Error(`decoder: batch ${B} exceeds maxBatch ${maxBatch}`);
  if (pos > 0 && B !== prevB)
    throw new Error(`decoder: batch changed from ${prevB} to ${B} mid-sequence`);
  if (pos + n > nCtx) {
    throw new UserError(
      `sequence of ${pos + n} tokens exceeds the model's context of ${nCtx}`,
      "use a shorter prompt or fewer new tokens",
    );
  }
}

/** Tokens for one cache slot in a `feed` (a decoder whose rows sit at their own positions). */
export interface FeedPart {
  slot: number;
  ids: ArrayLike<number>;
}

/**
 * A contiguous group of rows of one forward pass: rows start..start+n are positions t0..t0+n of
 * cache slot `slot`.
 */
export interface Segment {
  start: number;
  n: number;
  slot: number;
  t0: number;
}

/**
 * Checks a `feed` (distinct slots in range, at least one token each, the context not exceeded:
 * a UserError, it is the prompt's length) and returns its segments and concatenated ids.
 */
export function feedSegments(
  parts: readonly FeedPart[],
  slotPos: Int32Array,
  nCtx: number,
): { ids: Int32Array; segs: Segment[] } {
  const seen = new Set<number>();
  let rows = 0;
  for (const p of parts) {
    if (!(Number.isInteger(p.slot) && p.slot >= 0 && p.slot < slotPos.length))
      throw new Error(`decoder: slot ${p.slot} outside [0, ${slotPos.length})`);
    if (seen.has(p.slot)) throw new Error(`decoder: slot ${p.slot} fed twice in one step`);
    if (p.ids.length === 0) throw new Error(`decoder: no ids for slot ${p.slot}`);
    seen.add(p.slot);
    const end = slotPos[p.slot]! + p.ids.length;
    if (end > nCtx) {
      throw new UserError(
        `sequence of ${end} tokens exceeds the model's context of ${nCtx}`,
        "use a shorter prompt or fewer new tokens",
      );
    }
    rows += p.ids.length;
  }
  const ids = new Int32Array(rows);
  const segs: Segment[] = [];
  let start = 0;
  for (const p of parts) {
    ids.set(Array.from(p.ids), start);
    segs.push({ start, n: p.ids.length, slot: p.slot, t0: slotPos[p.slot]! });
    start += p.ids.length;
  }
  return { ids, segs };
}

/** Returns a collected cache's buffers to the shared memory's pool. */
const cacheBuffers = new FinalizationRegistry<Float32Array[]>((bufs) => {
  for (const b of bufs) release(b);
});

export class KvCache {
  readonly nCtx: number;
  readonly kvDim: number;
  readonly #k: Float32Array[];
  readonly #v: Float32Array[];
  /** Scratch for one query's attention scores (reused: no allocation per step). */
  #scores = new Float32Array(0);

  constructor(nLayer: number, maxBatch: number, nCtx: number, kvDim: number) {
    this.nCtx = nCtx;
    this.kvDim = kvDim;
    // in the shared memory, so the SIMD kernel can read them; handed back when the cache is
    // garbage-collected (a server makes one decoder per request)
    const size = maxBatch * nCtx * kvDim;
    const bufs = persistent(() => Array.from({ length: 2 * nLayer }, () => alloc(size)));
    this.#k = bufs.slice(0, nLayer);
    this.#v = bufs.slice(nLayer);
    cacheBuffers.register(this, bufs);
  }

  /** Stores key and value vectors of sequence b at position t (read from k[kOff..], v[vOff..]). */
  put(
    layer: number,
    b: number,
    t: number,
    k: ArrayLike<number>,
    kOff: number,
    v: ArrayLike<number>,
    vOff: number,
  ): void {
    const dst = (b * this.nCtx + t) * this.kvDim;
    const K = this.#k[layer]!;
    const V = this.#v[layer]!;
    for (let c = 0; c < this.kvDim; c++) {
      K[dst + c] = k[kOff + c]!;
      V[dst + c] = v[vOff + c]!;
    }
  }

  /**
   * Causal attention of n new queries per sequence (positions t0..t0+n) over the cache.
   * q: row r = b·n + i starts at q[r·qStride + qOff]; out: [B, n, nHead·hs] (a new array).
   */
  attend(
    layer: number,
    q: ArrayLike<number>,
    qOff: number,
    qStride: number,
    B: number,
    n: number,
    t0: number,
    nHead: number,
    nKvHead: number,
    hs: number,
  ): Float32Array {
    const out = new Float32Array(B * n * nHead * hs);
    this.attendInto(layer, q, qOff, qStride, B, n, t0, nHead, nKvHead, hs, out);
    return out;
  }

  /**
   * `attend` into a preallocated out[B·n·nHead·hs] (overwritten). Each (row, head) is two
   * matrix-vector products over the cached block of its sequence, which is contiguous rows of
   * stride kvDim: scores = K[0..t]·q, softmax, out = V[0..t]ᵀ·p. Rows never mix, so batched
   * sequences stay independent. Run by the WebAssembly SIMD kernel when it is loaded (one
   * unit of work per sequence and head), by BLAS sgemv for a single query row, and by plain
   * loops otherwise. `slot0` shifts the sequences to cache slots slot0.. (a decoder whose rows
   * sit at different positions attends slot by slot).
   */
  attendInto(
    layer: number,
    q: ArrayLike<number>,
    qOff: number,
    qStride: number,
    B: number,
    n: number,
    t0: number,
    nHead: number,
    nKvHead: number,
    hs: number,
    out: Float32Array,
    slot0 = 0,
  ): void {
    // sequences b = 0..B-1 are cache slots slot0..slot0+B-1
    const from = slot0 * this.nCtx * this.kvDim;
    const K = slot0 === 0 ? this.#k[layer]! : this.#k[layer]!.subarray(from);
    const V = slot0 === 0 ? this.#v[layer]! : this.#v[layer]!.subarray(from);
    const gemv = q instanceof Float32Array ? loadSgemv() : null;
    // the SIMD kernel, except for a single query row (batch-1 decoding), where two BLAS sgemv
    // per head measured 25% faster on the reference model (0.11 vs 0.14 ms per token)
    const fast = cachedAttention();
    if (fast && q instanceof Float32Array && (B * n > 1 || !gemv)) {
      const c = { q, qOff, qStride, K, V, kvDim: this.kvDim, nCtx: this.nCtx, out, B, n, t0 };
      if (fast({ ...c, nHead, nKvHead, hs })) return;
    }
    const d = nHead * hs;
    const group = nHead / nKvHead;
    const scale = 1 / Math.sqrt(hs);
    if (this.#scores.length < t0 + n) this.#scores = new Float32Array(this.nCtx);
    const scores = this.#scores;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < n; i++) {
        const qRow = (b * n + i) * qStride + qOff;
        const T = t0 + i + 1; // positions this query sees
        for (let h = 0; h < nHead; h++) {
          const qo = qRow + h * hs;
          const base = b * this.nCtx * this.kvDim + Math.floor(h / group) * hs;
          const oo = (b * n + i) * d + h * hs;
          if (gemv) {
            const qv = (q as Float32Array).subarray(qo, qo + hs);
            gemv(false, T, hs, scale, K.subarray(base), this.kvDim, qv, 0, scores);
          } else {
            for (let j = 0; j < T; j++) {
              const ko = base + j * this.kvDim;
              let s = 0;
              for (let c = 0; c < hs; c++) s += q[qo + c]! * K[ko + c]!;
              scores[j] = s * scale;
            }
          }
          softmaxInPlace(scores, T);
          if (gemv) {
            gemv(
              true,
              T,
              hs,
              1,
              V.subarray(base),
              this.kvDim,
              scores,
              0,
              out.subarray(oo, oo + hs),
            );
          } else {
            out.fill(0, oo, oo + hs);
            for (let j = 0; j < T; j++) {
              const p = scores[j]!;
              const vo = base + j * this.kvDim;
              for (let c = 0; c < hs; c++) out[oo + c]! += p * V[vo + c]!;
            }
          }
        }
      }
    }
  }
}

/** p[0..n) ← softmax(p[0..n)), max-subtracted, sums in float64. */
function softmaxInPlace(p: Float32Array, n: number): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) if (p[j]! > max) max = p[j]!;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(p[j]! - max);
    p[j] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let j = 0; j < n; j++) p[j]! *= inv;
}
