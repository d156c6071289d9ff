/**
 * The KV cache and the attention that reads it, shared by every decoder family. Per layer it
 * holds keys and values [maxBatch, nCtx, nKvHead·hs]; new positions are appended, and each new
 * query (already rotated, for RoPE models) attends causally to every cached position up to its
 * own. Grouped-query attention: query head h reads key/value head ⌊h / (nHead / nKvHead)⌋.
 */
export class KvCache {
  readonly nCtx: number;
  readonly kvDim: number;
  readonly #k: Float32Array[];
  readonly #v: Float32Array[];

  constructor(nLayer: number, maxBatch: number, nCtx: number, kvDim: number) {
    this.nCtx = nCtx;
    this.kvDim = kvDim;
    this.#k = Array.from({ length: nLayer }, () => new Float32Array(maxBatch * nCtx * kvDim));
    this.#v = Array.from({ length: nLayer }, () => new Float32Array(maxBatch * nCtx * kvDim));
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
   * q: row r = b·n + i starts at q[r·qStride + qOff]; out: [B, n, nHead·hs].
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
    const K = this.#k[layer]!;
    const V = this.#v[layer]!;
    const d = nHead * hs;
    const group = nHead / nKvHead;
    const out = new Float32Array(B * n * d);
    const scores = new Float64Array(t0 + n);
    const scale = 1 / Math.sqrt(hs);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < n; i++) {
        const qRow = (b * n + i) * qStride + qOff;
        const upto = t0 + i;
        for (let h = 0; h < nHead; h++) {
          const qo = qRow + h * hs;
          const kvo = Math.floor(h / group) * hs;
          let max = Number.NEGATIVE_INFINITY;
          for (let j = 0; j <= upto; j++) {
            const ko = (b * this.nCtx + j) * this.kvDim + kvo;
            let s = 0;
            for (let c = 0; c < hs; c++) s += q[qo + c]! * K[ko + c]!;
            s *= scale;
            scores[j] = s;
            if (s > max) max = s;
          }
          let sum = 0;
          for (let j = 0; j <= upto; j++) {
            const e = Math.exp(scores[j]! - max);
            scores[j] = e;
            sum += e;
          }
          const oo = (b * n + i) * d + h * hs;
          for (let j = 0; j <= upto; j++) {
            const p = scores[j]! / sum;
            const vo = (b * this.nCtx + j) * this.kvDim + kvo;
            for (let c = 0; c < hs; c++) out[oo + c]! += p * V[vo + c]!;
          }
        }
      }
    }
    return out;
  }
}
