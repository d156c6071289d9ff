/**
 * Incremental Llama inference with a KV cache: like `Gpt2Decoder`, but queries and keys are
 * rotated (RoPE, HF "rotate half" layout) at their absolute positions before keys are cached,
 * and keys/values have nKvHead heads (grouped-query attention). Float32 weights take the same
 * direct path as GPT-2 (buffers allocated once, BLAS straight on them, residual updated in
 * place); other dtypes go through tensor ops. Matches `Llama.forward` to float32 rounding;
 * checked in the tests.
 */
import type { Llama } from "../model/llama.js";
import { kernelsFor } from "../tensor/kernels.js";
import { alloc, persistent, scope } from "../tensor/memory.js";
import { add, embedding, linear, rmsNorm, swiglu } from "../tensor/ops.js";
import { noGrad, type Tensor, tensor } from "../tensor/tensor.js";
import { checkStep, type FeedPart, feedSegments, KvCache, type Segment } from "./kv-cache.js";
import { linearInto } from "./linear.js";

/** Activation buffers of the direct path, sized for `rows` = B·n positions at once. */
interface Buffers {
  rows: number;
  x: Float32Array; // residual stream [rows, d]
  h: Float32Array; // normed input [rows, d]
  q: Float32Array; // [rows, d]
  k: Float32Array; // [rows, kvDim]
  v: Float32Array; // [rows, kvDim]
  a: Float32Array; // attention output [rows, d]
  g: Float32Array; // gate, then swiglu [rows, hidden]
  u: Float32Array; // up [rows, hidden]
  rrms: Float32Array;
  logits: Float32Array; // [maxBatch, V]
}

export class LlamaDecoder {
  readonly model: Llama;
  readonly maxBatch: number;
  pos = 0;
  /** Positions filled so far in each cache slot by `feed`. */
  readonly slotPos: Int32Array;
  readonly #cache: KvCache;
  #B = 0;
  #buf: Buffers | null = null;

  constructor(model: Llama, maxBatch = 1) {
    this.model = model;
    this.maxBatch = maxBatch;
    const { nCtx, nEmbd, nLayer, nHead, nKvHead } = model.config;
    this.#cache = new KvCache(nLayer, maxBatch, nCtx, ((nKvHead ?? nHead) * nEmbd) / nHead);
    this.slotPos = new Int32Array(maxBatch);
  }

  get contextLength(): number {
    return this.model.config.nCtx;
  }

  reset(): void {
    this.pos = 0;
    this.#B = 0;
    this.slotPos.fill(0);
  }

  /** Forgets the sequence in one cache slot. */
  clearSlot(slot: number): void {
    this.slotPos[slot] = 0;
  }

  /** As `Gpt2Decoder.feed`: each part at its own slot's position; logits [parts.length, V]. */
  feed(parts: readonly FeedPart[]): Float32Array {
    if (!(this.model.embed.data instanceof Float32Array))
      throw new Error("decoder: feed needs float32 weights");
    const { ids, segs } = feedSegments(parts, this.slotPos, this.model.config.nCtx);
    const logits = this.#stepDirect(ids, segs, false);
    for (const s of segs) this.slotPos[s.slot]! += s.n;
    return logits;
  }

  /** Rotates each head of rows [rows, heads·hs] by the angle of its position (in place). */
  #rope(x: Float32Array | Float64Array, segs: readonly Segment[], heads: number): void {
    const hs = this.model.config.nEmbd / this.model.config.nHead;
    const half = hs / 2;
    const { cos, sin } = this.model.rope;
    for (const sg of segs) {
      for (let i = 0; i < sg.n; i++) {
        const t = sg.t0 + i;
        const row = (sg.start + i) * heads * hs;
        for (let h = 0; h < heads; h++) {
          const o = row + h * hs;
          for (let j = 0; j < half; j++) {
            const c = cos[t * half + j]!;
            const s = sin[t * half + j]!;
            const x1 = x[o + j]!;
            const x2 = x[o + j + half]!;
            x[o + j] = x1 * c - x2 * s;
            x[o + j + half] = x2 * c + x1 * s;
          }
        }
      }
    }
  }

  /** Feeds [B, n] ids at positions pos..pos+n; returns next-token logits [B, V]. */
  step(ids: Int32Array, B: number, n: number): Float32Array {
    const { nCtx, nEmbd: d, nHead, vocabSize: V, eps = 1e-5 } = this.model.config;
    const nKv = this.model.config.nKvHead ?? nHead;
    const hs = d / nHead;
    checkStep(ids, B, n, this.pos, this.#B, this.maxBatch, nCtx);
    this.#B = B;
    const segs = Array.from({ length: B }, (_, b) => ({ start: b * n, n, slot: b, t0: this.pos }));
    if (this.model.embed.data instanceof Float32Array) {
      const logits = this.#stepDirect(ids, segs, true);
      this.pos += n;
      return logits;
    }
    const m = this.model;
    const t0 = this.pos;
    const logits = noGrad(() =>
      scope(() => {
        let x = embedding(m.embed, ids, [B, n]);
        for (let l = 0; l < m.blocks.length; l++) {
          const blk = m.blocks[l]!;
          const h = rmsNorm(x, blk.inputNorm, eps);
          const q = linear(h, blk.q);
          const k = linear(h, blk.k);
          const v = linear(h, blk.v);
          this.#rope(q.data, segs, nHead);
          this.#rope(k.data, segs, nKv);
          for (let b = 0; b < B; b++) {
            for (let i = 0; i < n; i++) {
              const r = (b * n + i) * nKv * hs;
              this.#cache.put(l, b, t0 + i, k.data, r, v.data, r);
            }
          }
          const a = this.#cache.attend(l, q.data, 0, d, B, n, t0, nHead, nKv, hs);
          x = add(x, linear(tensor(a, [B, n, d]), blk.o));
          const mm = rmsNorm(x, blk.postNorm, eps);
          x = add(x, linear(swiglu(linear(mm, blk.gate), linear(mm, blk.up)), blk.down));
        }
        const last = new Float32Array(B * d);
        for (let b = 0; b < B; b++)
          last.set(x.data.subarray((b * n + n - 1) * d, (b * n + n) * d), b * d);
        const hl = rmsNorm(tensor(last, [B, d]), m.norm, eps);
        return Float32Array.from(linear(hl, m.lmHead).data.subarray(0, B * V));
      }),
    );
    this.pos += n;
    return logits;
  }

  /** Buffers for at least `rows` positions (shared-memory, so the SIMD kernels apply). */
  #buffers(rows: number): Buffers {
    if (this.#buf && this.#buf.rows >= rows) return this.#buf;
    const { nEmbd: d, vocabSize: V } = this.model.config;
    const kvDim = this.#cache.kvDim;
    const hidden = this.model.blocks[0]!.gate.shape[0]!;
    const R = Math.max(rows, this.maxBatch);
    this.#buf = persistent(() => ({
      rows,
      x: alloc(R * d),
      h: alloc(R * d),
      q: alloc(R * d),
      k: alloc(R * kvDim),
      v: alloc(R * kvDim),
      a: alloc(R * d),
      g: alloc(R * hidden),
      u: alloc(R * hidden),
      rrms: alloc(R),
      logits: alloc(this.maxBatch * V),
    }));
    return this.#buf;
  }

  /** The direct float32 path of `step` and `feed` (as in `Gpt2Decoder`). */
  #stepDirect(ids: Int32Array, segs: readonly Segment[], uniform: boolean): Float32Array {
    const { nEmbd: d, nHead, vocabSize: V, eps = 1e-5 } = this.model.config;
    const nKv = this.model.config.nKvHead ?? nHead;
    const hs = d / nHead;
    const kvDim = nKv * hs;
    const m = this.model;
    const rows = ids.length;
    const buf = this.#buffers(rows);
    const { x, h, q, k, v, a, g, u, rrms } = buf;
    const kern = kernelsFor(x);
    const f32 = (t: Tensor) => t.data as Float32Array;
    const embed = f32(m.embed);
    for (let r = 0; r < rows; r++) {
      const id = ids[r]!;
      if (!(id >= 0 && id < V))
        throw new Error(`decoder: id ${id} at index ${r} outside [0, ${V})`);
      x.set(embed.subarray(id * d, id * d + d), r * d);
    }
    for (let l = 0; l < m.blocks.length; l++) {
      const blk = m.blocks[l]!;
      const hidden = blk.gate.shape[0]!;
      kern.rmsNormFwd(x, f32(blk.inputNorm), h, rrms, rows, d, eps);
      linearInto(h, rows, d, f32(blk.q), d, null, q);
      linearInto(h, rows, d, f32(blk.k), kvDim, null, k);
      linearInto(h, rows, d, f32(blk.v), kvDim, null, v);
      this.#rope(q.subarray(0, rows * d), segs, nHead);
      this.#rope(k.subarray(0, rows * kvDim), segs, nKv);
      for (const s of segs) {
        for (let i = 0; i < s.n; i++) {
          const r = s.start + i;
          this.#cache.put(l, s.slot, s.t0 + i, k, r * kvDim, v, r * kvDim);
        }
      }
      if (uniform) {
        const { n, t0 } = segs[0]!;
        this.#cache.attendInto(l, q, 0, d, segs.length, n, t0, nHead, nKv, hs, a);
      } else {
        for (const s of segs) {
          const out = a.subarray(s.start * d, (s.start + s.n) * d);
          this.#cache.attendInto(l, q, s.start * d, d, 1, s.n, s.t0, nHead, nKv, hs, out, s.slot);
        }
      }
      linearInto(a, rows, d, f32(blk.o), d, null, x, true);
      kern.rmsNormFwd(x, f32(blk.postNorm), h, rrms, rows, d, eps);
      linearInto(h, rows, d, f32(blk.gate), hidden, null, g);
      linearInto(h, rows, d, f32(blk.up), hidden, null, u);
      for (let i = 0; i < rows * hidden; i++) {
        const z = g[i]!;
        g[i] = (z / (1 + Math.exp(-z))) * u[i]!;
      }
      linearInto(g, rows, hidden, f32(blk.down), d, null, x, true);
    }
    // only the last position of each segment goes through the final norm and the head
    const B = segs.length;
    segs.forEach((s, b) => {
      const r = s.start + s.n - 1;
      a.set(x.subarray(r * d, (r + 1) * d), b * d);
    });
    kern.rmsNormFwd(a, f32(m.norm), h, rrms, B, d, eps);
    linearInto(h, B, d, f32(m.lmHead), V, null, buf.logits);
    return buf.logits.slice(0, B * V);
  }
}
