/**
 * Incremental GPT-2 inference with a KV cache. `step(ids, B, n)` feeds n new tokens for each of
 * B sequences (a prompt at once, then one token at a time): each layer's keys and values for
 * the new positions are appended to the cache, the new queries attend to every cached position
 * up to their own, and the logits of the last new position of each row are returned. The work
 * per generated token is then one pass over the weights, not a pass over the whole context.
 *
 * Float32 weights take a direct path: every activation lives in buffers allocated once per
 * decoder (grown only for a longer prompt), layer norm and GELU run the tensor core's kernels
 * on them, matmuls go straight to BLAS (sgemv for one row), and the residual stream is updated
 * in place. No tensors, scopes or per-layer allocation. Other dtypes (float64 reference) run
 * the same computation through tensor ops.
 *
 * Matches `GPT2.forward` (same ops, same order) to float32 rounding; checked in the tests.
 */
import type { GPT2 } from "../model/gpt2.js";
import { kernelsFor } from "../tensor/kernels.js";
import { alloc, persistent, scope } from "../tensor/memory.js";
import { add, embedding, gelu, layerNorm, linear } from "../tensor/ops.js";
import { noGrad, type Tensor, tensor } from "../tensor/tensor.js";
import { checkStep, type FeedPart, feedSegments, KvCache, type Segment } from "./kv-cache.js";
import { linearInto } from "./linear.js";

/** Activation buffers of the direct path, sized for `rows` = B·n positions at once. */
interface Buffers {
  rows: number;
  x: Float32Array; // residual stream [rows, d]
  h: Float32Array; // normed input [rows, d]
  qkv: Float32Array; // [rows, 3d]
  a: Float32Array; // attention output [rows, d]
  f: Float32Array; // MLP hidden [rows, 4d]
  mean: Float32Array;
  rstd: Float32Array;
  last: Float32Array; // final-normed last positions [maxBatch, d]
  logits: Float32Array; // [maxBatch, V]
}

export class Gpt2Decoder {
  readonly model: GPT2;
  readonly maxBatch: number;
  /** Positions filled so far by `step` (the same for every row). */
  pos = 0;
  /** Positions filled so far in each cache slot by `feed`. */
  readonly slotPos: Int32Array;
  readonly #cache: KvCache;
  #B = 0;
  #buf: Buffers | null = null;

  constructor(model: GPT2, maxBatch = 1) {
    this.model = model;
    this.maxBatch = maxBatch;
    const { nCtx, nEmbd, nLayer } = model.config;
    this.#cache = new KvCache(nLayer, maxBatch, nCtx, nEmbd);
    this.slotPos = new Int32Array(maxBatch);
  }

  get contextLength(): number {
    return this.model.config.nCtx;
  }

  /** Forgets the cached sequence(s). */
  reset(): void {
    this.pos = 0;
    this.#B = 0;
    this.slotPos.fill(0);
  }

  /** Forgets the sequence in one cache slot (`feed`'s rows start over there). */
  clearSlot(slot: number): void {
    this.slotPos[slot] = 0;
  }

  /**
   * Feeds each part's ids to its cache slot at that slot's own position (rows of a batch at
   * different lengths: a prompt in one slot while others decode one token) and returns the
   * next-token logits after each part, [parts.length, V]. Float32 weights only. Not to be mixed
   * with `step` without a `reset` between.
   */
  feed(parts: readonly FeedPart[]): Float32Array {
    if (!(this.model.wte.data instanceof Float32Array))
      throw new Error("decoder: feed needs float32 weights");
    const { ids, segs } = feedSegments(parts, this.slotPos, this.model.config.nCtx);
    const logits = this.#stepDirect(ids, segs, false);
    for (const s of segs) this.slotPos[s.slot]! += s.n;
    return logits;
  }

  /**
   * Feeds `ids` ([B, n], row-major) at positions pos..pos+n and returns the next-token logits
   * of each row, [B, V] (a fresh copy).
   */
  step(ids: Int32Array, B: number, n: number): Float32Array {
    const { nCtx, nEmbd: d, vocabSize: V, eps = 1e-5 } = this.model.config;
    checkStep(ids, B, n, this.pos, this.#B, this.maxBatch, nCtx);
    this.#B = B;
    if (this.model.wte.data instanceof Float32Array) {
      const segs = Array.from({ length: B }, (_, b) => ({
        start: b * n,
        n,
        slot: b,
        t0: this.pos,
      }));
      const logits = this.#stepDirect(ids, segs, true);
      this.pos += n;
      return logits;
    }
    const m = this.model;
    const t0 = this.pos;
    const logits = noGrad(() =>
      scope(() => {
        const posIds = new Int32Array(n).map((_, i) => t0 + i);
        let x = add(embedding(m.wte, ids, [B, n]), embedding(m.wpe, posIds, [n]));
        for (let l = 0; l < m.blocks.length; l++) {
          const blk = m.blocks[l]!;
          const h = layerNorm(x, blk.ln1w, blk.ln1b, eps);
          const qkv = linear(h, blk.attnW, blk.attnB); // [B, n, 3d]
          const a = this.#attend(l, qkv, B, n, t0);
          x = add(x, linear(a, blk.projW, blk.projB));
          const f = gelu(linear(layerNorm(x, blk.ln2w, blk.ln2b, eps), blk.fcW, blk.fcB));
          x = add(x, linear(f, blk.fcProjW, blk.fcProjB));
        }
        // only the last position of each row goes through the final norm and the head
        const last = new Float32Array(B * d);
        for (let b = 0; b < B; b++)
          last.set(x.data.subarray((b * n + n - 1) * d, (b * n + n) * d), b * d);
        const hl = layerNorm(tensor(last, [B, d]), m.lnfW, m.lnfB, eps);
        return Float32Array.from(linear(hl, m.wte).data.subarray(0, B * V));
      }),
    );
    this.pos += n;
    return logits;
  }

  /** Buffers for at least `rows` positions (shared-memory, so the SIMD kernels apply). */
  #buffers(rows: number): Buffers {
    if (this.#buf && this.#buf.rows >= rows) return this.#buf;
    const { nEmbd: d, vocabSize: V } = this.model.config;
    const B = this.maxBatch;
    this.#buf = persistent(() => ({
      rows,
      x: alloc(rows * d),
      h: alloc(rows * d),
      qkv: alloc(rows * 3 * d),
      a: alloc(rows * d),
      f: alloc(rows * 4 * d),
      mean: alloc(Math.max(rows, B)),
      rstd: alloc(Math.max(rows, B)),
      last: alloc(B * d),
      logits: alloc(B * V),
    }));
    return this.#buf;
  }

  /**
   * The direct float32 path of `step` and `feed` (see the file comment): the rows of `ids` in
   * segments, each a run of positions of one cache slot; the logits after each segment's last
   * row. `uniform`: segment b is slot b and all start at one position (`step`), so attention runs
   * as one batched call.
   */
  #stepDirect(ids: Int32Array, segs: readonly Segment[], uniform: boolean): Float32Array {
    const { nEmbd: d, nHead, vocabSize: V, eps = 1e-5 } = this.model.config;
    const m = this.model;
    const rows = ids.length;
    const buf = this.#buffers(rows);
    const { x, h, qkv, a, f, mean, rstd } = buf;
    const k = kernelsFor(x);
    const f32 = (t: Tensor) => t.data as Float32Array;
    const wte = f32(m.wte);
    const wpe = f32(m.wpe);
    for (const s of segs) {
      for (let r = s.start; r < s.start + s.n; r++) {
        const id = ids[r]!;
        if (!(id >= 0 && id < V))
          throw new Error(`decoder: id ${id} at index ${r} outside [0, ${V})`);
        const t = s.t0 + r - s.start;
        for (let c = 0; c < d; c++) x[r * d + c] = wte[id * d + c]! + wpe[t * d + c]!;
      }
    }
    const hs = d / nHead;
    for (let l = 0; l < m.blocks.length; l++) {
      const blk = m.blocks[l]!;
      k.layerNormFwd(x, f32(blk.ln1w), f32(blk.ln1b), h, mean, rstd, rows, d, eps);
      linearInto(h, rows, d, f32(blk.attnW), 3 * d, f32(blk.attnB), qkv);
      for (const s of segs) {
        for (let i = 0; i < s.n; i++) {
          const o = (s.start + i) * 3 * d;
          this.#cache.put(l, s.slot, s.t0 + i, qkv, o + d, qkv, o + 2 * d);
        }
      }
      if (uniform) {
        const { n, t0 } = segs[0]!;
        this.#cache.attendInto(l, qkv, 0, 3 * d, segs.length, n, t0, nHead, nHead, hs, a);
      } else {
        for (const s of segs) {
          const out = a.subarray(s.start * d, (s.start + s.n) * d);
          const q0 = s.start * 3 * d;
          this.#cache.attendInto(l, qkv, q0, 3 * d, 1, s.n, s.t0, nHead, nHead, hs, out, s.slot);
        }
      }
      linearInto(a, rows, d, f32(blk.projW), d, f32(blk.projB), x, true);
      k.layerNormFwd(x, f32(blk.ln2w), f32(blk.ln2b), h, mean, rstd, rows, d, eps);
      linearInto(h, rows, d, f32(blk.fcW), 4 * d, f32(blk.fcB), f);
      k.geluFwd(f, f, rows * 4 * d);
      linearInto(f, rows, 4 * d, f32(blk.fcProjW), d, f32(blk.fcProjB), x, true);
    }
    // only the last position of each segment goes through the final norm and the head
    const { last, logits } = buf;
    const B = segs.length;
    segs.forEach((s, b) => {
      const r = s.start + s.n - 1;
      last.set(x.subarray(r * d, (r + 1) * d), b * d);
    });
    k.layerNormFwd(last, f32(m.lnfW), f32(m.lnfB), h, mean, rstd, B, d, eps);
    linearInto(h, B, d, wte, V, null, logits);
    return logits.slice(0, B * V);
  }

  /** Appends K and V of the new positions to layer l's cache and runs causal attention. */
  #attend(l: number, qkv: Tensor, B: number, n: number, t0: number): Tensor {
    const { nEmbd: d, nHead } = this.model.config;
    const src = qkv.data;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < n; i++) {
        const row = (b * n + i) * 3 * d;
        this.#cache.put(l, b, t0 + i, src, row + d, src, row + 2 * d);
      }
    }
    const out = this.#cache.attend(l, src, 0, 3 * d, B, n, t0, nHead, nHead, d / nHead);
    return tensor(out, [B, n, d]);
  }
}
