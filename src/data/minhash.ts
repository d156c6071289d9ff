/**
 * MinHash near-duplicate detection (Broder, 1997), FineWeb's settings: text normalised
 * (lower case, punctuation removed, digits → 0, whitespace squeezed), 5-word shingles,
 * 14 bands × 8 hashes = 112 min-hashes. Two documents share a band when all 8 hashes of the
 * band agree; the probability of that for similarity s is 1 − (1 − s⁸)¹⁴, about ½ at s ≈ 0.72.
 * Documents that share any band are joined with union-find, and each cluster keeps one
 * document: the first in input order (task, then position), so the result is deterministic.
 *
 * Hashing is 32-bit and plain JS: each word gets an FNV-1a hash, a shingle combines its 5
 * word hashes (MurmurHash3's finaliser), and the 112 hash functions come from two hashes of
 * the shingle by double hashing (see `minhashSignature`).
 */

export interface MinHashConfig {
  enabled: boolean;
  shingleWords: number;
  bands: number;
  rowsPerBand: number;
}

export const DEFAULT_MINHASH: MinHashConfig = {
  enabled: true,
  shingleWords: 5,
  bands: 14,
  rowsPerBand: 8,
};

/** Normalisation before shingling. */
export function normaliseForDedup(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, " ")
    .replace(/\d/g, "0")
    .replace(/\s+/g, " ")
    .trim();
}

const SEPARATOR_RE = /[\p{P}\p{S}\s]/u;

/**
 * FNV-1a hashes of the words of `normaliseForDedup(text)`, computed in one pass without
 * building the normalised string (the same values as hashing its words one by one).
 */
export function dedupWordHashes(text: string): Int32Array {
  const lower = text.toLowerCase();
  const out: number[] = [];
  let h = 0x811c9dc5;
  let inWord = false;
  for (let i = 0; i < lower.length; i++) {
    let c = lower.charCodeAt(i);
    let sep: boolean;
    if (c < 128) {
      sep = !((c >= 97 && c <= 122) || (c >= 48 && c <= 57));
    } else if (c >= 0xd800 && c <= 0xdbff) {
      // a surrogate pair: classify the whole code point, hash both halves
      const pair = lower.slice(i, i + 2);
      sep = SEPARATOR_RE.test(pair);
      if (!sep) {
        if (!inWord) h = 0x811c9dc5;
        h = Math.imul(h ^ c, 0x01000193);
        c = lower.charCodeAt(++i);
        h = Math.imul(h ^ c, 0x01000193);
        inWord = true;
        continue;
      }
      i++;
    } else {
      sep = SEPARATOR_RE.test(lower[i] as string);
    }
    if (sep) {
      if (inWord) out.push(h | 0);
      inWord = false;
      continue;
    }
    if (c >= 48 && c <= 57) c = 48; // digits → 0
    if (!inWord) h = 0x811c9dc5;
    h = Math.imul(h ^ c, 0x01000193);
    inWord = true;
  }
  if (inWord) out.push(h | 0);
  if (out.length === 0) out.push(0x811c9dc5 | 0); // the empty text is one empty word
  return Int32Array.from(out);
}

/** FNV-1a over UTF-16 code units. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3's finaliser on signed 32-bit integers (stays in V8's fast integer path). */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * The 112 (bands × rows) min-hashes of a text. Hash values are compared as signed 32-bit
 * integers: any fixed order works for MinHash, and this one keeps the loop in integer math.
 */
export function minhashSignature(text: string, cfg: MinHashConfig = DEFAULT_MINHASH): Uint32Array {
  const k = cfg.bands * cfg.rowsPerBand;
  const sig = new Int32Array(k).fill(0x7fffffff);
  const wh = dedupWordHashes(text);
  const n = cfg.shingleWords;
  const count = Math.max(1, wh.length - n + 1);
  for (let i = 0; i < count; i++) {
    let sh = 0x12345678;
    const end = Math.min(i + n, wh.length);
    for (let j = i; j < end; j++) sh = mix32(Math.imul(sh, 0x01000193) ^ (wh[j] as number));
    // hash function r is h1 + r·h2 (double hashing, Kirsch & Mitzenmacher 2006) with the high
    // bits folded down: one addition per function instead of a full hash; on near-duplicate
    // pairs its Jaccard estimates are as close to the truth as 112 independent hashes'
    const h2 = mix32(sh ^ 0x5bd1e995) | 1;
    let v = sh;
    for (let r = 0; r < k; r++) {
      v = (v + h2) | 0;
      const x = v ^ (v >>> 15);
      if (x < (sig[r] as number)) sig[r] = x;
    }
  }
  return new Uint32Array(sig.buffer);
}

/** One 32-bit key per band (the 8 hashes of the band combined). */
export function bandKeys(sig: Uint32Array, cfg: MinHashConfig = DEFAULT_MINHASH): Uint32Array {
  const keys = new Uint32Array(cfg.bands * 2);
  for (let b = 0; b < cfg.bands; b++) {
    // two independent 32-bit combinations = a 64-bit key, so chance collisions are negligible
    let h1 = 0x2545f491 ^ b;
    let h2 = 0x9e3779b9 ^ b;
    for (let r = 0; r < cfg.rowsPerBand; r++) {
      const v = sig[b * cfg.rowsPerBand + r] as number;
      h1 = fmix32((h1 ^ v) >>> 0);
      h2 = fmix32((Math.imul(h2, 31) + v) >>> 0);
    }
    keys[2 * b] = h1;
    keys[2 * b + 1] = h2;
  }
  return keys;
}

/** Fraction of agreeing min-hashes: an estimate of the Jaccard similarity of the shingle sets. */
export function estimateSimilarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Union-find over 0…n−1 with path halving; the root of a set is its smallest member. */
export class UnionFind {
  readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x] as number] as number;
      x = p[x] as number;
    }
    return x;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }
}

/**
 * Clusters documents given their band keys (n × bands × 2 values, documents in global order).
 * Returns, for each document, the index of the document its cluster keeps (itself if kept).
 */
export function clusterByBands(keys: Uint32Array, n: number, bands: number): Int32Array {
  const uf = new UnionFind(n);
  for (let b = 0; b < bands; b++) {
    const first = new Map<string, number>();
    for (let d = 0; d < n; d++) {
      const o = (d * bands + b) * 2;
      const key = `${keys[o]}:${keys[o + 1]}`;
      const f = first.get(key);
      if (f === undefined) first.set(key, d);
      else uf.union(f, d);
    }
  }
  const rep = new Int32Array(n);
  for (let d = 0; d < n; d++) rep[d] = uf.find(d);
  return rep;
}
