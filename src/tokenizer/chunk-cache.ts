/**
 * The chunk → ids cache of the encoder. Most chunks of real text repeat (" the", ","), so their
 * ids are remembered. Keys are never sliced out of the text: the caller hashes the chunk's code
 * units in place, and a probe compares code units at the chunk's offset, so a hit allocates
 * nothing. The table is open-addressed with everything stored in the slot (hash, key, and either
 * the single id or where the ids sit in one growing Int32Array). When half full, it is emptied.
 */

/** FNV-1a over the code units text[s..e). */
export function hashChunk(text: string, s: number, e: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

export class ChunkCache {
  readonly maxEntries: number;
  #mask: number;
  #keys: (string | undefined)[];
  #hashes: Int32Array;
  /** The id if the chunk is one token, else -(start + 1) into the pool. */
  #first: Int32Array;
  #len: Int32Array;
  #pool = new Int32Array(1 << 16);
  #poolLen = 0;
  #count = 0;

  constructor(maxEntries = 1 << 16) {
    this.maxEntries = maxEntries;
    const slots = maxEntries * 2;
    this.#mask = slots - 1;
    this.#keys = new Array(slots).fill(undefined);
    this.#hashes = new Int32Array(slots);
    this.#first = new Int32Array(slots);
    this.#len = new Int32Array(slots);
  }

  get size(): number {
    return this.#count;
  }

  /**
   * Appends the cached ids of text[s..e) (hash `h`) to `out` and returns true, or returns false.
   */
  get(text: string, s: number, e: number, h: number, out: number[]): boolean {
    const keys = this.#keys;
    const n = e - s;
    for (let i = h & this.#mask; ; i = (i + 1) & this.#mask) {
      const key = keys[i];
      if (key === undefined) return false;
      if (this.#hashes[i] !== h || key.length !== n) continue;
      let k = 0;
      while (k < n && key.charCodeAt(k) === text.charCodeAt(s + k)) k++;
      if (k < n) continue;
      const first = this.#first[i]!;
      if (first >= 0) {
        out.push(first);
      } else {
        const st = -first - 1;
        const len = this.#len[i]!;
        const pool = this.#pool;
        for (let j = 0; j < len; j++) out.push(pool[st + j]!);
      }
      return true;
    }
  }

  /** Remembers that `key` (hash `h`) encodes to out[from..out.length). */
  set(key: string, h: number, out: number[], from: number): void {
    if (this.#count >= this.maxEntries) this.clear();
    const len = out.length - from;
    let i = h & this.#mask;
    while (this.#keys[i] !== undefined) i = (i + 1) & this.#mask;
    this.#keys[i] = key;
    this.#hashes[i] = h;
    this.#len[i] = len;
    this.#count++;
    if (len === 1) {
      this.#first[i] = out[from]!;
      return;
    }
    if (this.#poolLen + len > this.#pool.length) {
      const p = new Int32Array(Math.max(this.#pool.length * 2, this.#poolLen + len));
      p.set(this.#pool.subarray(0, this.#poolLen));
      this.#pool = p;
    }
    for (let k = 0; k < len; k++) this.#pool[this.#poolLen + k] = out[from + k]!;
    this.#first[i] = -(this.#poolLen + 1);
    this.#poolLen += len;
  }

  clear(): void {
    this.#keys.fill(undefined);
    this.#poolLen = 0;
    this.#count = 0;
  }
}
