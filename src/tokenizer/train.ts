/**
 * Training a byte-level BPE vocabulary.
 *
 * 1. Count: every document is split by the pattern, and each distinct chunk is counted once
 *    (a word that occurs 10,000 times is stored once, with count 10,000). Inputs are streamed.
 * 2. Merge: the chunks become arrays of byte ids. Pair counts (weighted by chunk counts) live in a
 *    map, and a max-heap orders candidate pairs. Each step pops the most frequent pair, gives it
 *    the next id, and rewrites only the chunks that contain it (found through a pair → chunks
 *    index), updating the counts of the pairs that changed.
 *
 * Tie-breaking (deterministic): the most frequent pair wins; among equally frequent pairs, the one
 * with the smallest left id, then the smallest right id. Occurrences are merged left to right,
 * without overlap ("aaa" with pair (a, a) becomes [aa, a]). Pairs are counted at every position,
 * overlapping ones included. Training stops early if no pair is left.
 *
 * Id layout of the result: 0..255 = bytes, 256.. = merges in order, then the special tokens.
 */
import { UserError } from "../util/errors.js";
import { Progress } from "../util/progress.js";
import { BpeRanks } from "./bpe.js";
import { listInputFiles, readDocuments, totalBytes } from "./inputs.js";
import { CL100K_PATTERN, resolvePattern, scannerFor } from "./patterns.js";
import { Tokenizer } from "./tokenizer.js";

/** Special tokens of every tokenizer we train (in id order, after the merges). */
export const DEFAULT_SPECIAL_TOKENS = [
  "<|endoftext|>",
  "<|im_start|>",
  "<|im_sep|>",
  "<|im_end|>",
  "<|python_start|>",
  "<|python_end|>",
  "<|search_start|>",
  "<|search_end|>",
  "<|output_start|>",
  "<|output_end|>",
];

export interface TrainOptions {
  /** Files or folders: text (.txt/.md), JSONL or JSONL.gz with a "text" field. */
  inputs: string[];
  /** Target vocabulary size, special tokens included. */
  vocabSize: number;
  /** Split pattern: a name (gpt2, gpt4, gpt4o, or tiktoken names) or a regex. Default gpt4. */
  pattern?: string;
  /** Special tokens; `<|endoftext|>` is added first if missing. Default: DEFAULT_SPECIAL_TOKENS. */
  specialTokens?: string[];
  /** Name recorded in the config. */
  name?: string;
  /** Stop reading after this many input bytes (default: read everything). */
  maxBytes?: number;
  /** No progress output. */
  quiet?: boolean;
}

export interface TrainStats {
  files: number;
  documents: number;
  bytes: number;
  uniqueChunks: number;
  merges: number;
  countSeconds: number;
  mergeSeconds: number;
}

/** Counts every distinct chunk of the inputs. */
export async function countChunks(
  opts: Pick<TrainOptions, "inputs" | "pattern" | "maxBytes" | "quiet">,
): Promise<{ counts: Map<string, number>; files: number; documents: number; bytes: number }> {
  const files = await listInputFiles(opts.inputs);
  if (files.length === 0) {
    throw new UserError(
      `no training text found in ${opts.inputs.join(", ") || "(no inputs)"}`,
      "pass .txt, .jsonl or .jsonl.gz files, or folders that hold them",
    );
  }
  const scanner = scannerFor(resolvePattern(opts.pattern ?? CL100K_PATTERN));
  const total = await totalBytes(files);
  const progress = new Progress("tokenizer: counting chunks", {
    total: opts.maxBytes ? Math.min(total, opts.maxBytes) : total,
    unit: "MiB",
    format: (n) => (n / 2 ** 20).toFixed(1),
    quiet: opts.quiet,
  });
  const counts = new Map<string, number>();
  let documents = 0;
  let bytes = 0;
  let used = 0;
  outer: for (const file of files) {
    used++;
    for await (const doc of readDocuments(file, (n) => progress.tick(n))) {
      documents++;
      bytes += Buffer.byteLength(doc);
      scanner(doc, (s, e) => {
        const chunk = doc.slice(s, e);
        counts.set(chunk, (counts.get(chunk) ?? 0) + 1);
      });
      if (opts.maxBytes && bytes >= opts.maxBytes) break outer;
    }
  }
  progress.finish(`${counts.size} distinct chunks`);
  if (bytes === 0) {
    throw new UserError(
      `the training inputs hold no text (${files.length} file(s), all empty)`,
      "check the input paths",
    );
  }
  return { counts, files: used, documents, bytes };
}

/** Max-heap of (count, pair key): larger count first, then smaller key. */
class PairHeap {
  #c: number[] = [];
  #k: number[] = [];
  get size(): number {
    return this.#c.length;
  }
  #above(i: number, j: number): boolean {
    const ci = this.#c[i]!;
    const cj = this.#c[j]!;
    return ci > cj || (ci === cj && this.#k[i]! < this.#k[j]!);
  }
  #swap(i: number, j: number): void {
    const c = this.#c[i]!;
    const k = this.#k[i]!;
    this.#c[i] = this.#c[j]!;
    this.#k[i] = this.#k[j]!;
    this.#c[j] = c;
    this.#k[j] = k;
  }
  push(count: number, key: number): void {
    this.#c.push(count);
    this.#k.push(key);
    let i = this.#c.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#above(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }
  /** Removes the top; returns [count, key]. */
  pop(): [number, number] {
    const top: [number, number] = [this.#c[0]!, this.#k[0]!];
    const lastC = this.#c.pop()!;
    const lastK = this.#k.pop()!;
    if (this.#c.length > 0) {
      this.#c[0] = lastC;
      this.#k[0] = lastK;
      let i = 0;
      const n = this.#c.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const best = r < n && this.#above(r, l) ? r : l;
        if (!this.#above(best, i)) break;
        this.#swap(best, i);
        i = best;
      }
    }
    return top;
  }
}

/** Pair keys: left * KEY + right (ids below 2^21). */
const KEY = 2 ** 21;

/**
 * Learns up to `nMerges` merges from chunk counts. Returns them flat: [a0, b0, a1, b1, …], where
 * merge m creates id 256 + m.
 */
export function learnMerges(
  chunkCounts: Map<string, number>,
  nMerges: number,
  progress?: Progress,
): number[] {
  const enc = new TextEncoder();
  const words: Int32Array[] = [];
  const counts: number[] = [];
  const pairCount = new Map<number, number>();
  const where = new Map<number, number[]>();
  const addWhere = (key: number, w: number) => {
    let list = where.get(key);
    if (!list) where.set(key, (list = []));
    if (list[list.length - 1] !== w) list.push(w);
  };
  for (const [chunk, c] of chunkCounts) {
    const bytes = enc.encode(chunk);
    if (bytes.length < 2) continue;
    const w = words.length;
    words.push(Int32Array.from(bytes));
    counts.push(c);
    for (let i = 0; i + 1 < bytes.length; i++) {
      const key = bytes[i]! * KEY + bytes[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + c);
      addWhere(key, w);
    }
  }
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges: number[] = [];
  const seen = new Int32Array(words.length).fill(-1);
  const out: number[] = [];
  for (let m = 0; m < nMerges; m++) {
    // The best pair whose heap entry is current (counts that fell are re-queued lazily).
    let key = -1;
    while (heap.size > 0) {
      const [c, k] = heap.pop();
      const cur = pairCount.get(k) ?? 0;
      if (cur === c) {
        key = k;
        break;
      }
      if (cur > 0 && cur < c) heap.push(cur, k);
    }
    if (key < 0) break; // nothing left to merge
    const a = Math.floor(key / KEY);
    const b = key - a * KEY;
    const id = 256 + m;
    merges.push(a, b);
    const list = where.get(key)!;
    where.delete(key);
    pairCount.delete(key);
    const delta = new Map<number, number>();
    for (const w of list) {
      if (seen[w] === m) continue;
      seen[w] = m;
      const word = words[w]!;
      out.length = 0;
      for (let i = 0; i < word.length; ) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          out.push(id);
          i += 2;
        } else {
          out.push(word[i]!);
          i++;
        }
      }
      if (out.length === word.length) continue; // a stale index entry
      const c = counts[w]!;
      for (let i = 0; i + 1 < word.length; i++) {
        const k = word[i]! * KEY + word[i + 1]!;
        delta.set(k, (delta.get(k) ?? 0) - c);
      }
      for (let i = 0; i + 1 < out.length; i++) {
        const k = out[i]! * KEY + out[i + 1]!;
        delta.set(k, (delta.get(k) ?? 0) + c);
        if (out[i] === id || out[i + 1] === id) addWhere(k, w);
      }
      words[w] = Int32Array.from(out);
    }
    for (const [k, d] of delta) {
      if (d === 0 || k === key) continue;
      const cur = (pairCount.get(k) ?? 0) + d;
      if (cur <= 0) {
        pairCount.delete(k);
      } else {
        pairCount.set(k, cur);
        if (d > 0) heap.push(cur, k);
      }
    }
    progress?.tick(1);
  }
  return merges;
}

/** The byte strings of ids 0..255+merges. */
export function mergesToTokens(merges: number[]): Uint8Array[] {
  const tokens: Uint8Array[] = [];
  for (let b = 0; b < 256; b++) tokens.push(Uint8Array.of(b));
  for (let m = 0; m < merges.length; m += 2) {
    const l = tokens[merges[m]!]!;
    const r = tokens[merges[m + 1]!]!;
    const t = new Uint8Array(l.length + r.length);
    t.set(l);
    t.set(r, l.length);
    tokens.push(t);
  }
  return tokens;
}

/** The special-token list to use: the given one (or the default), with <|endoftext|> first. */
export function specialTokenList(given?: string[]): string[] {
  const list = [...(given ?? DEFAULT_SPECIAL_TOKENS)];
  if (!list.includes("<|endoftext|>")) list.unshift("<|endoftext|>");
  if (new Set(list).size !== list.length) {
    throw new UserError(`duplicate special tokens in ${list.join(" ")}`);
  }
  for (const s of list) {
    if (!s) throw new UserError("a special token cannot be empty");
  }
  return list;
}

/** Trains a tokenizer and reports how it went. */
export async function trainTokenizerWithStats(
  opts: TrainOptions,
): Promise<{ tokenizer: Tokenizer; stats: TrainStats }> {
  const specials = specialTokenList(opts.specialTokens);
  const minSize = 256 + specials.length;
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < minSize) {
    throw new UserError(
      `vocabulary size ${opts.vocabSize} is too small: it must be at least 256 bytes + ` +
        `${specials.length} special tokens = ${minSize}`,
      "pass a larger --vocab-size (e.g. 8192)",
    );
  }
  if (opts.vocabSize > KEY) {
    throw new UserError(`vocabulary size ${opts.vocabSize} is too large (at most ${KEY})`);
  }
  const pattern = resolvePattern(opts.pattern ?? CL100K_PATTERN);
  const t0 = performance.now();
  const { counts, files, documents, bytes } = await countChunks({ ...opts, pattern });
  const t1 = performance.now();
  const nMerges = opts.vocabSize - minSize;
  const progress = new Progress("tokenizer: merging", {
    total: nMerges,
    unit: "merges",
    quiet: opts.quiet,
  });
  const merges = learnMerges(counts, nMerges, progress);
  progress.finish();
  const t2 = performance.now();
  const tokens = mergesToTokens(merges);
  const specialTokens: Record<string, number> = {};
  specials.forEach((s, i) => {
    specialTokens[s] = tokens.length + i;
  });
  const ranks = new BpeRanks(tokens);
  const tokenizer = new Tokenizer({
    name: opts.name ?? `bpe-${opts.vocabSize}`,
    pattern,
    ranks,
    specialTokens,
  });
  return {
    tokenizer,
    stats: {
      files,
      documents,
      bytes,
      uniqueChunks: counts.size,
      merges: merges.length / 2,
      countSeconds: (t1 - t0) / 1000,
      mergeSeconds: (t2 - t1) / 1000,
    },
  };
}

/** Trains a byte-level BPE tokenizer (see the file comment for the algorithm and tie rules). */
export async function trainTokenizer(opts: TrainOptions): Promise<Tokenizer> {
  return (await trainTokenizerWithStats(opts)).tokenizer;
}
