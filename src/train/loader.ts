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
import { readShard, readShardHeader } from "../data/shards.js";
import { UserError } from "../util/errors.js";

export interface LoaderState {
  shard: number;
  pos: number;
  epoch: number;
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
    this.counts = files.map((f) => readShardHeader(f).tokens);
    this.x = new Int32Array(B * T);
    this.y = new Int32Array(B * T);
  }

  #shard(i: number): Uint16Array | Uint32Array {
    if (this.#loaded !== i) {
      this.#tokens = readShard(this.files[i]!);
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
