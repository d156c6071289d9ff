/**
 * Gopher repetition filter (Rae et al., 2021, as FineWeb runs it): drops documents that
 * repeat themselves, by the fraction of duplicated lines and paragraphs (and of their
 * characters), the character share of the most frequent 2/3/4-gram, and the character share
 * of duplicated 5…10-grams.
 */
import { findDuplicates, splitWords } from "./text-stats.js";

export interface GopherRepetitionConfig {
  enabled: boolean;
  dupLineFrac: number;
  dupParaFrac: number;
  dupLineCharFrac: number;
  dupParaCharFrac: number;
  /** [n, max character share of the most frequent n-gram]. */
  topNGrams: [number, number][];
  /** [n, max character share of duplicated n-grams]. */
  dupNGrams: [number, number][];
}

export const DEFAULT_GOPHER_REPETITION: GopherRepetitionConfig = {
  enabled: true,
  dupLineFrac: 0.3,
  dupParaFrac: 0.3,
  dupLineCharFrac: 0.2,
  dupParaCharFrac: 0.2,
  topNGrams: [
    [2, 0.2],
    [3, 0.18],
    [4, 0.16],
  ],
  dupNGrams: [
    [5, 0.15],
    [6, 0.14],
    [7, 0.13],
    [8, 0.12],
    [9, 0.11],
    [10, 0.1],
  ],
};

/**
 * Words as integer ids (equal words, equal ids), so that n-grams can be keyed by numbers
 * instead of joined strings: this filter looks at every n-gram for n = 2…10.
 */
export function wordIds(words: string[]): Int32Array {
  const ids = new Int32Array(words.length);
  const map = new Map<string, number>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    let id = map.get(w);
    if (id === undefined) {
      id = map.size;
      map.set(w, id);
    }
    ids[i] = id;
  }
  return ids;
}

/**
 * Counts n-grams keyed by two 32-bit hashes (a 64-bit key: collisions are negligible) in an
 * open-addressing table of typed arrays: several times faster than a Map on the ~10 passes
 * this filter makes over every document.
 */
class NGramCounter {
  // slot i holds [key a, key b, count] at 3i, 3i+1, 3i+2: one cache line per probe
  #t = new Int32Array(48);
  #mask = 15;

  /** Empties the table, sized for `capacity` keys (the array is reused between calls). */
  reset(capacity: number): this {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    if (size * 3 > this.#t.length) this.#t = new Int32Array(size * 3);
    else this.#t.fill(0, 0, size * 3);
    this.#mask = size - 1;
    return this;
  }

  /** Adds one occurrence of the key (a, b); returns its count so far. */
  add(a: number, b: number): number {
    const t = this.#t;
    let h = (a ^ Math.imul(b, 0x27d4eb2d)) & this.#mask;
    for (;;) {
      const o = h * 3;
      const c = t[o + 2] as number;
      if (c === 0) {
        t[o] = a;
        t[o + 1] = b;
        t[o + 2] = 1;
        return 1;
      }
      if (t[o] === a && t[o + 1] === b) {
        t[o + 2] = c + 1;
        return c + 1;
      }
      h = (h + 1) & this.#mask;
    }
  }
}

/** One table reused by every call (the filter is synchronous, so calls never overlap). */
const COUNTER = new NGramCounter();

/** Characters of the n-gram at i as Gopher counts them: its words joined by single spaces. */
function ngramChars(lens: Int32Array, i: number, n: number): number {
  let c = n - 1;
  for (let j = i; j < i + n; j++) c += lens[j] as number;
  return c;
}

/**
 * The hash keys of all n-grams of one length, extended in place to length n+1: the key of
 * the n-gram at i is a running hash of its words, so one step per position adds a word.
 */
export class NGramKeys {
  readonly a: Int32Array;
  readonly b: Int32Array;
  n = 0;
  constructor(readonly ids: Int32Array) {
    this.a = new Int32Array(ids.length).fill(0x811c9dc5 | 0);
    this.b = new Int32Array(ids.length).fill(0x01000193);
  }
  /** Extends every n-gram by one word. */
  grow(): void {
    const { a, b, ids } = this;
    const last = ids.length - this.n - 1;
    for (let i = 0; i <= last; i++) {
      const x = ids[i + this.n] as number;
      a[i] = Math.imul((a[i] as number) ^ x, 0x01000193);
      const bi = b[i] as number;
      b[i] = Math.imul(bi + x, 0x5bd1e995) ^ (bi >>> 15);
    }
    this.n++;
  }
  /** Number of n-grams of the current length. */
  get count(): number {
    return Math.max(0, this.ids.length - this.n + 1);
  }
}

/** Share of characters in the most frequent n-gram (counted over all positions). */
export function topNGramCharShare(keys: NGramKeys, lens: Int32Array, totalChars: number): number {
  const n = keys.n;
  const count = keys.count;
  if (count <= 0 || totalChars === 0) return 0;
  const counts = COUNTER.reset(count);
  let best = -1;
  let bestCount = 0;
  for (let i = 0; i < count; i++) {
    const c = counts.add(keys.a[i] as number, keys.b[i] as number);
    if (c > bestCount) {
      bestCount = c;
      best = i;
    }
  }
  return bestCount > 1 ? (ngramChars(lens, best, n) * bestCount) / totalChars : 0;
}

/** Share of characters in n-grams that repeat an earlier one (non-overlapping, greedy). */
export function dupNGramCharShare(keys: NGramKeys, lens: Int32Array, totalChars: number): number {
  const n = keys.n;
  const count = keys.count;
  if (count <= 0 || totalChars === 0) return 0;
  const seen = COUNTER.reset(count);
  let dupChars = 0;
  let i = 0;
  while (i < count) {
    if (seen.add(keys.a[i] as number, keys.b[i] as number) > 1) {
      for (let j = i; j < i + n; j++) dupChars += lens[j] as number;
      i += n;
    } else {
      i++;
    }
  }
  return dupChars / totalChars;
}

/** The reason to drop `text`, or null. */
export function gopherRepetition(
  text: string,
  cfg: GopherRepetitionConfig,
  words = splitWords(text),
): string | null {
  const total = text.length;
  const paras = text.trim().split(/\n{2,}/);
  const pd = findDuplicates(paras);
  if (pd.count / paras.length > cfg.dupParaFrac) return "dup-para-frac";
  if (pd.chars / total > cfg.dupParaCharFrac) return "dup-para-char-frac";
  const lines = text.split(/\n+/);
  const ld = findDuplicates(lines);
  if (ld.count / lines.length > cfg.dupLineFrac) return "dup-line-frac";
  if (ld.chars / total > cfg.dupLineCharFrac) return "dup-line-char-frac";
  const keys = new NGramKeys(wordIds(words));
  const lens = Int32Array.from(words, (w) => w.length);
  const maxN = Math.max(0, ...cfg.topNGrams.map((x) => x[0]), ...cfg.dupNGrams.map((x) => x[0]));
  for (let n = 1; n <= maxN; n++) {
    keys.grow();
    for (const [k, max] of cfg.topNGrams) {
      if (k === n && topNGramCharShare(keys, lens, total) > max) return `top-${n}-gram`;
    }
    for (const [k, max] of cfg.dupNGrams) {
      if (k === n && dupNGramCharShare(keys, lens, total) > max) return `dup-${n}-gram`;
    }
  }
  return null;
}
