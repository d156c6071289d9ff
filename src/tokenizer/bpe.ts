/**
 * The byte-pair-encoding core shared by every tokenizer: token byte strings, the table of merges,
 * and the merge loop that turns the bytes of one pre-tokenized chunk into token ids.
 *
 * Conventions (as in tiktoken): a token's id is its rank, and the bytes of two adjacent parts may
 * be merged whenever their concatenation is a token; at each step the lowest-ranked such merge is
 * made, the leftmost one on ties. The merges are kept as a hash table from the integer pair
 * (left id, right id) to the merged id, so the loop never builds strings.
 */

/** Open-addressing hash table from a pair of token ids to the id of their merge. */
export class PairTable {
  #keysA: Int32Array;
  #keysB: Int32Array;
  #vals: Int32Array;
  #mask: number;
  size = 0;

  constructor(expected = 1024) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.#keysA = new Int32Array(cap).fill(-1);
    this.#keysB = new Int32Array(cap);
    this.#vals = new Int32Array(cap);
    this.#mask = cap - 1;
  }

  static #hash(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  }

  /** The merged id of (a, b), or -1. */
  get(a: number, b: number): number {
    const keysA = this.#keysA;
    const mask = this.#mask;
    let h = PairTable.#hash(a, b) & mask;
    for (;;) {
      const ka = keysA[h]!;
      if (ka === -1) return -1;
      if (ka === a && this.#keysB[h] === b) return this.#vals[h]!;
      h = (h + 1) & mask;
    }
  }

  /** Sets (a, b) → v unless (a, b) already has a value (the first, lowest rank wins). */
  setIfAbsent(a: number, b: number, v: number): void {
    if ((this.size + 1) * 2 > this.#keysA.length) this.#grow();
    const mask = this.#mask;
    let h = PairTable.#hash(a, b) & mask;
    for (;;) {
      const ka = this.#keysA[h]!;
      if (ka === -1) break;
      if (ka === a && this.#keysB[h] === b) return;
      h = (h + 1) & mask;
    }
    this.#keysA[h] = a;
    this.#keysB[h] = b;
    this.#vals[h] = v;
    this.size++;
  }

  #grow(): void {
    const oldA = this.#keysA;
    const oldB = this.#keysB;
    const oldV = this.#vals;
    const cap = oldA.length * 2;
    this.#keysA = new Int32Array(cap).fill(-1);
    this.#keysB = new Int32Array(cap);
    this.#vals = new Int32Array(cap);
    this.#mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < oldA.length; i++) {
      if (oldA[i] !== -1) this.setIfAbsent(oldA[i]!, oldB[i]!, oldV[i]!);
    }
  }
}

/**
 * The vocabulary of ranked byte strings (no special tokens): id → bytes, and the merge table.
 * Ids run 0..size-1 but may have holes (ids with no bytes), as some tiktoken files do.
 */
export class BpeRanks {
  /** Number of ids (max id + 1). */
  readonly size: number;
  /** Token `i`'s bytes are `bytes[offsets[i] .. offsets[i+1])`; empty for a hole. */
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
  /** The id of each single byte (tiktoken files do not use the identity). */
  readonly byteToId: Int32Array;
  readonly pairs: PairTable;
  /** Length in bytes of the longest token. */
  readonly maxTokenLength: number;
  /** Open-addressing index from a token's bytes to its id (slots hold ids, -1 = empty). */
  #slots: Int32Array;
  #mask: number;

  /** `tokens[id]` = bytes of token `id` (undefined for a hole). Every byte must be a token. */
  constructor(tokens: (Uint8Array | undefined)[]) {
    this.size = tokens.length;
    let total = 0;
    let maxLen = 0;
    for (const t of tokens) {
      total += t ? t.length : 0;
      maxLen = Math.max(maxLen, t ? t.length : 0);
    }
    this.maxTokenLength = maxLen;
    this.bytes = new Uint8Array(total);
    this.offsets = new Uint32Array(this.size + 1);
    let o = 0;
    for (let i = 0; i < this.size; i++) {
      this.offsets[i] = o;
      const t = tokens[i];
      if (t) {
        this.bytes.set(t, o);
        o += t.length;
      }
    }
    this.offsets[this.size] = o;
    let cap = 1024;
    while (cap < this.size * 2) cap *= 2;
    this.#slots = new Int32Array(cap).fill(-1);
    this.#mask = cap - 1;
    for (let id = 0; id < this.size; id++) {
      const s = this.offsets[id]!;
      const e = this.offsets[id + 1]!;
      if (e === s || this.#find(this.bytes, s, e) >= 0) continue; // a hole, or a duplicate
      let i = hashBytes(this.bytes, s, e) & this.#mask;
      while (this.#slots[i]! >= 0) i = (i + 1) & this.#mask;
      this.#slots[i] = id;
    }
    this.byteToId = new Int32Array(256).fill(-1);
    const one = new Uint8Array(1);
    for (let b = 0; b < 256; b++) {
      one[0] = b;
      const id = this.#find(one, 0, 1);
      if (id < 0) throw new Error(`byte ${b} is not a token`);
      this.byteToId[b] = id;
    }
    // Every split of a token into two tokens is a merge into it (tiktoken's rule). Visiting ids in
    // rank order and keeping the first value makes each pair map to its lowest-ranked merge.
    this.pairs = new PairTable(this.size * 4);
    for (let id = 0; id < this.size; id++) {
      const s = this.offsets[id]!;
      const e = this.offsets[id + 1]!;
      for (let k = s + 1; k < e; k++) {
        const a = this.#find(this.bytes, s, k);
        if (a < 0 || a >= id) continue;
        const b = this.#find(this.bytes, k, e);
        if (b < 0 || b >= id) continue;
        this.pairs.setIfAbsent(a, b, id);
      }
    }
  }

  /** The id whose bytes equal buf[s..e), or -1. */
  #find(buf: Uint8Array, s: number, e: number): number {
    const n = e - s;
    const slots = this.#slots;
    const all = this.bytes;
    const offsets = this.offsets;
    for (let i = hashBytes(buf, s, e) & this.#mask; ; i = (i + 1) & this.#mask) {
      const id = slots[i]!;
      if (id < 0) return -1;
      const o = offsets[id]!;
      if (offsets[id + 1]! - o !== n) continue;
      let k = 0;
      while (k < n && all[o + k] === buf[s + k]) k++;
      if (k === n) return id;
    }
  }

  /** The bytes of token `id` (a view; do not modify). */
  tokenBytes(id: number): Uint8Array {
    return this.bytes.subarray(this.offsets[id]!, this.offsets[id + 1]!);
  }

  /** True if `id` is a ranked token (in range, not a hole). */
  has(id: number): boolean {
    return id >= 0 && id < this.size && this.offsets[id + 1]! > this.offsets[id]!;
  }

  /** The id of the token whose bytes are exactly `bytes[0..n)`, or -1. */
  lookup(bytes: Uint8Array, n: number): number {
    if (n > this.maxTokenLength || n === 0) return -1;
    return this.#find(bytes, 0, n);
  }
}

/** FNV-1a over buf[s..e). */
function hashBytes(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

const NONE = 0x7fffffff;
let scratchTok = new Int32Array(256);
let scratchRank = new Int32Array(256);

/** Chunks longer than this (in bytes) use the O(n log n) heap merge instead of the simple loop. */
const LONG = 128;

/**
 * Appends the ids of `bytes[0..n)` (one chunk) to `out`. As in tiktoken, a chunk that is itself a
 * token becomes that token; otherwise merges are made by lowest rank, leftmost first.
 */
export function mergeChunk(ranks: BpeRanks, bytes: Uint8Array, n: number, out: number[]): void {
  const whole = ranks.lookup(bytes, n);
  if (whole >= 0) {
    out.push(whole);
    return;
  }
  if (n > LONG) mergeLong(ranks, bytes, n, out);
  else mergeShort(ranks, bytes, n, out);
}

/**
 * The simple O(n²) loop: scan all pairs for the lowest rank, merge, repeat (short chunks).
 * Merges of rank `limit` or above are not made (used to find the two parts of a token).
 */
export function mergeShort(
  ranks: BpeRanks,
  bytes: Uint8Array,
  n: number,
  out: number[],
  limit = NONE,
): void {
  const byteToId = ranks.byteToId;
  if (scratchTok.length < n) {
    scratchTok = new Int32Array(n * 2);
    scratchRank = new Int32Array(n * 2);
  }
  const tok = scratchTok;
  const rank = scratchRank;
  const pairs = ranks.pairs;
  for (let i = 0; i < n; i++) tok[i] = byteToId[bytes[i]!]!;
  for (let i = 0; i < n - 1; i++) {
    const r = pairs.get(tok[i]!, tok[i + 1]!);
    rank[i] = r < 0 || r >= limit ? NONE : r;
  }
  let len = n;
  while (len > 1) {
    let best = NONE;
    let at = -1;
    for (let i = 0; i < len - 1; i++) {
      if (rank[i]! < best) {
        best = rank[i]!;
        at = i;
      }
    }
    if (at < 0) break;
    tok[at] = best;
    tok.copyWithin(at + 1, at + 2, len);
    rank.copyWithin(at + 1, at + 2, len - 1);
    len--;
    if (at > 0) {
      const r = pairs.get(tok[at - 1]!, best);
      rank[at - 1] = r < 0 || r >= limit ? NONE : r;
    }
    if (at < len - 1) {
      const r = pairs.get(best, tok[at + 1]!);
      rank[at] = r < 0 || r >= limit ? NONE : r;
    }
  }
  for (let i = 0; i < len; i++) out.push(tok[i]!);
}

/**
 * The same merge order for long chunks (a megabyte of one letter is one chunk), in O(n log n):
 * parts form a linked list, candidate merges sit in a min-heap keyed by (rank, position), and a
 * popped entry is used only if that pair is still present with that rank.
 */
export function mergeLong(ranks: BpeRanks, bytes: Uint8Array, n: number, out: number[]): void {
  const pairs = ranks.pairs;
  const tok = new Int32Array(n);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const pairRank = new Int32Array(n).fill(NONE);
  for (let i = 0; i < n; i++) {
    tok[i] = ranks.byteToId[bytes[i]!]!;
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  next[n - 1] = -1;
  // Heap of keys rank * 2^27 + position (positions < 2^27, ranks < 2^25).
  const POS = 2 ** 27;
  let heap = new Float64Array(n);
  let size = 0;
  const push = (k: number) => {
    if (size === heap.length) {
      const h = new Float64Array(size * 2);
      h.set(heap);
      heap = h;
    }
    let i = size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]! <= k) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = k;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap[--size]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && heap[r]! < heap[l]! ? r : l;
      if (heap[c]! >= last) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
    return top;
  };
  const setPair = (i: number) => {
    const j = next[i]!;
    const r = j < 0 ? -1 : pairs.get(tok[i]!, tok[j]!);
    pairRank[i] = r < 0 ? NONE : r;
    if (r >= 0) push(r * POS + i);
  };
  for (let i = 0; i < n - 1; i++) setPair(i);
  while (size > 0) {
    const k = pop();
    const r = Math.floor(k / POS);
    const i = k - r * POS;
    if (pairRank[i] !== r) continue; // stale
    const j = next[i]!;
    tok[i] = r;
    next[i] = next[j]!;
    if (next[j]! >= 0) prev[next[j]!] = i;
    pairRank[j] = NONE;
    setPair(i);
    if (prev[i]! >= 0) setPair(prev[i]!);
  }
  for (let i = 0; i >= 0; i = next[i]!) out.push(tok[i]!);
}
