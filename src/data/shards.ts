/**
 * Token shards in llm.c's `.bin` format: a header of 256 little-endian int32 (magic, version,
 * token count, then zeros) followed by the tokens, uint16 (magic 20240520, version 1) when the
 * vocabulary fits in 65,536 ids, otherwise uint32 (magic 20240801, version 7).
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";

export const HEADER_INTS = 256;
export const HEADER_BYTES = HEADER_INTS * 4;
export const MAGIC_U16 = 20240520;
export const VERSION_U16 = 1;
export const MAGIC_U32 = 20240801;
export const VERSION_U32 = 7;

/** Bytes per token for a vocabulary size. */
export function tokenBytes(vocabSize: number): 2 | 4 {
  return vocabSize <= 65536 ? 2 : 4;
}

/** Serialises tokens as one shard (header + tokens). */
export function encodeShard(tokens: ArrayLike<number>, vocabSize: number): Buffer {
  const width = tokenBytes(vocabSize);
  const buf = Buffer.alloc(HEADER_BYTES + tokens.length * width);
  buf.writeInt32LE(width === 2 ? MAGIC_U16 : MAGIC_U32, 0);
  buf.writeInt32LE(width === 2 ? VERSION_U16 : VERSION_U32, 4);
  buf.writeInt32LE(tokens.length, 8);
  const max = width === 2 ? 0xffff : 0xffffffff;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as number;
    if (!(t >= 0 && t <= max && t < vocabSize))
      throw new RangeError(`token ${t} at ${i} outside vocabulary ${vocabSize}`);
    if (width === 2) buf.writeUInt16LE(t, HEADER_BYTES + 2 * i);
    else buf.writeUInt32LE(t, HEADER_BYTES + 4 * i);
  }
  return buf;
}

export interface ShardHeader {
  magic: number;
  version: number;
  tokens: number;
  width: 2 | 4;
}

function parseHeader(h: Buffer, path: string, fileBytes: number): ShardHeader {
  const magic = h.readInt32LE(0);
  const version = h.readInt32LE(4);
  const tokens = h.readInt32LE(8);
  let width: 2 | 4;
  if (magic === MAGIC_U16 && version === VERSION_U16) width = 2;
  else if (magic === MAGIC_U32 && version === VERSION_U32) width = 4;
  else
    throw new UserError(
      `${path} is not a token shard (magic ${magic}, version ${version})`,
      "expected llm.c's .bin format",
    );
  if (fileBytes !== HEADER_BYTES + tokens * width) {
    throw new UserError(
      `${path} is truncated or padded: header says ${tokens} tokens, file has ${fileBytes} bytes`,
    );
  }
  return { magic, version, tokens, width };
}

/** Reads a shard's header (and checks the file size against it). */
export function readShardHeader(path: string): ShardHeader {
  const fd = openSync(path, "r");
  try {
    const h = Buffer.alloc(HEADER_BYTES);
    readSync(fd, h, 0, HEADER_BYTES, 0);
    return parseHeader(h, path, statSync(path).size);
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole shard's tokens. */
export function readShard(path: string): Uint16Array | Uint32Array {
  const { tokens, width } = readShardHeader(path);
  const fd = openSync(path, "r");
  try {
    const body = Buffer.alloc(tokens * width);
    readSync(fd, body, 0, body.length, HEADER_BYTES);
    const copy = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
    return width === 2 ? new Uint16Array(copy) : new Uint32Array(copy);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a stream of tokens as shards `<dir>/<prefix>_000000.bin`, `_000001`, … of exactly
 * `shardTokens` tokens (the last one shorter), as llm.c's fineweb.py does; documents may span
 * two shards.
 */
export class ShardWriter {
  readonly #buf: Uint32Array;
  #fill = 0;
  #index = 0;
  readonly written: string[] = [];
  totalTokens = 0;

  constructor(
    readonly dir: string,
    readonly prefix: string,
    readonly vocabSize: number,
    readonly shardTokens: number,
  ) {
    if (shardTokens < 1) throw new UserError("shard size must be at least 1 token");
    this.#buf = new Uint32Array(shardTokens);
  }

  /** Appends tokens, writing full shards as they fill. */
  async add(tokens: ArrayLike<number>): Promise<void> {
    let i = 0;
    while (i < tokens.length) {
      const n = Math.min(tokens.length - i, this.shardTokens - this.#fill);
      for (let j = 0; j < n; j++) this.#buf[this.#fill + j] = tokens[i + j] as number;
      this.#fill += n;
      i += n;
      if (this.#fill === this.shardTokens) await this.#flush();
    }
  }

  async #flush(): Promise<void> {
    if (this.#fill === 0) return;
    const path = join(this.dir, `${this.prefix}_${String(this.#index).padStart(6, "0")}.bin`);
    await writeFileAtomic(path, encodeShard(this.#buf.subarray(0, this.#fill), this.vocabSize));
    this.written.push(path);
    this.totalTokens += this.#fill;
    this.#index++;
    this.#fill = 0;
  }

  /** Writes the last, partial shard. Returns the paths written. */
  async close(): Promise<string[]> {
    await this.#flush();
    return this.written;
  }
}
