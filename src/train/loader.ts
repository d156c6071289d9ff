/**
 * Reads training batches from llm.c-format token shards (`*.bin`: 256 int32 header words —
 * magic, version, token count — then uint16 or uint32 tokens).
 *
 * Batches are contiguous: B·T + 1 tokens starting at the current position give inputs
 * x = tokens[0 .. B·T) and targets y = tokens[1 .. B·T + 1), seen as B rows of T. The position
 * then advances by B·T. When a shard has fewer than B·T + 1 tokens left, reading moves to the
 * next shard, and after the last one back to the first (epoch + 1). The position is a plain
 * object saved in every checkpoint, so a resumed run reads exactly the batches it would have.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { UserError } from "../util/errors.js";

export const SHARD_HEADER_INTS = 256;
export const MAGIC_U16 = 20240520;
export const MAGIC_U32 = 20240801;

export interface LoaderState {
  shard: number;
  pos: number;
  epoch: number;
}

/** Checks a shard's header against its file size and returns (token count, bytes per token). */
function checkHeader(
  path: string,
  header: Int32Array,
  fileBytes: number,
): { count: number; width: 2 | 4 } {
  const [magic, version, count] = [header[0]!, header[1]!, header[2]!];
  const width =
    magic === MAGIC_U16 && version === 1 ? 2 : magic === MAGIC_U32 && version === 7 ? 4 : 0;
  if (!width)
    throw new UserError(`${path}: not a token shard (magic ${magic}, version ${version})`);
  const expected = SHARD_HEADER_INTS * 4 + count * width;
  if (fileBytes !== expected) {
    throw new UserError(
      `${path}: header says ${count} tokens (${expected} bytes) but the file has ${fileBytes} bytes`,
      "the shard is truncated or corrupt; re-run `chatforge data tokenize`",
    );
  }
  return { count, width };
}

/** The number of tokens in a shard, reading only its header. */
export function shardTokenCount(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    throw new UserError(`cannot read token shard ${path}`, "run `chatforge data tokenize` first");
  }
  try {
    const header = new Int32Array(SHARD_HEADER_INTS);
    const got = readSync(fd, header, 0, SHARD_HEADER_INTS * 4, 0);
    if (got < SHARD_HEADER_INTS * 4)
      throw new UserError(`${path}: shorter than the 1024-byte shard header`);
    return checkHeader(path, header, statSync(path).size).count;
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole shard, checking its header against the file size. */
export function readTokenShard(path: string): Uint16Array | Uint32Array {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    throw new UserError(`cannot read token shard ${path}`, "run `chatforge data tokenize` first");
  }
  if (buf.length < SHARD_HEADER_INTS * 4)
    throw new UserError(`${path}: shorter than the 1024-byte shard header`);
  const header = new Int32Array(
    buf.buffer.slice(buf.byteOffset, buf.byteOffset + SHARD_HEADER_INTS * 4),
  );
  const { width } = checkHeader(path, header, buf.length);
  // copy into an aligned array (the Buffer's offset may not be a multiple of the width)
  const bytes = buf.subarray(SHARD_HEADER_INTS * 4);
  return width === 2
    ? new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))
    : new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

export class ShardLoader {
  readonly files: string[];
  readonly B: number;
  readonly T: number;
  state: LoaderState = { shard: 0, pos: 0, epoch: 0 };
  #tokens: Uint16Array | Uint32Array | null = null;
  #loaded = -1;
  readonly x: Int32Array;
  readonly y: Int32Array;
  /** Tokens in each shard (from the headers, checked against file sizes). */
  readonly counts: number[];

  constructor(files: string[], B: number, T: number) {
    if (files.length === 0)
      throw new UserError("no token shards given", "run `chatforge data tokenize` first");
    this.files = files;
    this.B = B;
    this.T = T;
    this.counts = files.map(shardTokenCount);
    this.x = new Int32Array(B * T);
    this.y = new Int32Array(B * T);
  }

  #shard(i: number): Uint16Array | Uint32Array {
    if (this.#loaded !== i) {
      this.#tokens = readTokenShard(this.files[i]!);
      this.#loaded = i;
    }
    return this.#tokens!;
  }

  /** Fills `x` and `y` with the next batch and advances. */
  next(): { x: Int32Array; y: Int32Array } {
    const need = this.B * this.T + 1;
    for (let tries = 0; ; tries++) {
      const toks = this.#shard(this.state.shard);
      if (this.state.pos + need <= toks.length) {
        const p = this.state.pos;
        for (let i = 0; i < need - 1; i++) {
          this.x[i] = toks[p + i]!;
          this.y[i] = toks[p + i + 1]!;
        }
        this.state.pos += need - 1;
        return { x: this.x, y: this.y };
      }
      if (tries > this.files.length) {
        throw new UserError(
          `no shard has ${need} tokens for one batch of ${this.B}×${this.T}`,
          "use a smaller --batch-size or --seq-len, or tokenize more data",
        );
      }
      this.state.shard = (this.state.shard + 1) % this.files.length;
      this.state.pos = 0;
      if (this.state.shard === 0) this.state.epoch++;
    }
  }

  /** Starts over from the beginning (validation passes). */
  reset(state: LoaderState = { shard: 0, pos: 0, epoch: 0 }): void {
    this.state = { ...state };
  }
}
