/**
 * Choosing the next token from the model's logits: the step the video shows as "Paris 80% /
 * France 15%". Order of operations (the same as Hugging Face's and llama.cpp's defaults):
 *
 *   1. repetition penalty on tokens already in the context (CTRL: positive logits are divided
 *      by the penalty, negative ones multiplied);
 *   2. temperature 0 → greedy (argmax, ties to the lowest id);
 *   3. logits / temperature → softmax;
 *   4. top-k: keep the k most probable tokens;
 *   5. top-p (nucleus): keep the smallest most-probable prefix whose mass reaches p;
 *   6. min-p: drop tokens less probable than min_p × the top token's probability;
 *   7. renormalise and draw one token with the seeded RNG.
 */

import { kernelsFor } from "../tensor/kernels.js";
import { alloc, persistent, release } from "../tensor/memory.js";

/** Anything that returns uniform numbers in [0, 1): `Rng` from the tensor core, or a stub. */
export interface UniformSource {
  uniform(): number;
}

export interface SamplingOptions {
  /** 0 = greedy; 1 = the model's distribution; higher = flatter. Default 1. */
  temperature?: number;
  /** Keep only the k most probable tokens (0 = off). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability sums to at least p (1 = off). */
  topP?: number;
  /** Drop tokens below minP × the most probable token's probability (0 = off). */
  minP?: number;
  /** > 1 discourages tokens already in `context` (1 = off). */
  repetitionPenalty?: number;
}

/** Checks options and says which one is wrong. */
export function validateSampling(o: SamplingOptions): void {
  const t = o.temperature ?? 1;
  if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`temperature must be >= 0, got ${t}`);
  if (o.topK !== undefined && (!Number.isInteger(o.topK) || o.topK < 0)) {
    throw new RangeError(`top-k must be a non-negative integer, got ${o.topK}`);
  }
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1))
    throw new RangeError(`top-p must be in (0, 1], got ${o.topP}`);
  if (o.minP !== undefined && !(o.minP >= 0 && o.minP < 1))
    throw new RangeError(`min-p must be in [0, 1), got ${o.minP}`);
  if (o.repetitionPenalty !== undefined && !(o.repetitionPenalty > 0)) {
    throw new RangeError(`repetition penalty must be > 0, got ${o.repetitionPenalty}`);
  }
}

/** Index of the largest value (lowest index on ties). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

function applyRepetitionPenalty(
  logits: Float64Array,
  context: ArrayLike<number> | undefined,
  penalty: number,
): void {
  if (!context || penalty === 1) return;
  const seen = new Set<number>();
  for (let i = 0; i < context.length; i++) {
    const id = context[i]!;
    if (seen.has(id) || id < 0 || id >= logits.length) continue;
    seen.add(id);
    const l = logits[id]!;
    logits[id] = l > 0 ? l / penalty : l * penalty;
  }
}

/** Softmax of logits/temperature, in float64. */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const p = new Float64Array(logits.length);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i]! - max) / temperature);
    p[i] = e;
    sum += e;
  }
  for (let i = 0; i < p.length; i++) p[i]! /= sum;
  return p;
}

/** Ids of the k largest probabilities, most probable first (ties: lower id first). */
function topKIds(p: Float64Array, k: number): number[] {
  if (k >= p.length) return [...p.keys()].sort((a, b) => p[b]! - p[a]! || a - b);
  // a min-heap of size k over (prob, id)
  const heap: number[] = [];
  const less = (a: number, b: number) => p[a]! < p[b]! || (p[a] === p[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let id = 0; id < p.length; id++) {
    if (heap.length < k) {
      heap.push(id);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!less(heap[i]!, heap[parent]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    } else if (less(heap[0]!, id)) {
      heap[0] = id;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => p[b]! - p[a]! || a - b);
}

/**
 * The candidate tokens and their renormalised probabilities after all filters, most probable
 * first. Exposed for `--show-probs` and for tests.
 */
export function candidates(
  logits: ArrayLike<number>,
  o: SamplingOptions = {},
  context?: ArrayLike<number>,
): { ids: number[]; probs: number[] } {
  validateSampling(o);
  const l = Float64Array.from(logits as ArrayLike<number>);
  applyRepetitionPenalty(l, context, o.repetitionPenalty ?? 1);
  const t = o.temperature ?? 1;
  if (t === 0) return { ids: [argmax(l)], probs: [1] };
  const p = softmax(l, t);
  const topK = o.topK ?? 0;
  const topP = o.topP ?? 1;
  const minP = o.minP ?? 0;
  let ids: number[];
  if (topK > 0) ids = topKIds(p, topK);
  else if (topP < 1 || minP > 0) {
    // only tokens that can survive min-p / matter for top-p need sorting
    const floor = minP > 0 ? minP * p[argmax(p)]! : 0;
    ids = [];
    for (let i = 0; i < p.length; i++) if (p[i]! >= floor && p[i]! > 0) ids.push(i);
    ids.sort((a, b) => p[b]! - p[a]! || a - b);
  } else {
    ids = [...p.keys()];
  }
  if (topP < 1) {
    let mass = 0;
    let cut = ids.length;
    for (let i = 0; i < ids.length; i++) {
      mass += p[ids[i]!]!;
      if (mass >= topP) {
        cut = i + 1;
        break;
      }
    }
    ids = ids.slice(0, cut);
  }
  if (minP > 0 && ids.length) {
    const floor = minP * Math.max(...ids.map((i) => p[i]!));
    ids = ids.filter((i) => p[i]! >= floor);
  }
  let sum = 0;
  for (const i of ids) sum += p[i]!;
  return { ids, probs: ids.map((i) => p[i]! / sum) };
}

/**
 * Scratch for the fused softmax + draw: the logits and their exponentials, in the shared memory
 * so that the SIMD kernel computes them (grown when needed, never per token).
 */
let scratch: { x: Float32Array; e: Float32Array } | null = null;

function scratchFor(n: number): { x: Float32Array; e: Float32Array } {
  if (!scratch || scratch.x.length < n) {
    if (scratch) for (const b of [scratch.x, scratch.e]) release(b);
    scratch = persistent(() => ({ x: alloc(n), e: alloc(n) }));
  }
  return scratch;
}

/** Whether o draws straight from the full distribution (no filter, no penalty, not greedy). */
function plain(o: SamplingOptions): boolean {
  const filtered = (o.topK ?? 0) > 0 || (o.topP ?? 1) < 1 || (o.minP ?? 0) > 0;
  return (o.temperature ?? 1) > 0 && !filtered && (o.repetitionPenalty ?? 1) === 1;
}

/**
 * One token per row of `logits` ([rows, V]); row r draws with rngs[r] (one uniform per row,
 * in row order, so the tokens equal sampleToken's row by row). In the common case (no filter,
 * no penalty) all rows are one SIMD job over the kernel threads: softmax numerators from one
 * pass (float32 exponentials, relative error ~1e-7), then a walk that stops where their running
 * sum passes u · Σ. No sorting.
 */
export function sampleRows(
  logits: Float32Array,
  rows: number,
  o: SamplingOptions,
  rngs: UniformSource[],
  contexts?: (ArrayLike<number> | undefined)[],
): Int32Array {
  const V = logits.length / rows;
  const out = new Int32Array(rows);
  if (!plain(o)) {
    for (let r = 0; r < rows; r++) {
      out[r] = sampleToken(logits.subarray(r * V, (r + 1) * V), o, rngs[r]!, contexts?.[r]);
    }
    return out;
  }
  validateSampling(o);
  const { x, e } = scratchFor(rows * V);
  x.set(logits);
  const u = Float64Array.from(rngs.slice(0, rows), (g) => g.uniform());
  kernelsFor(x).sampleRows(x, V, rows, V, 1 / (o.temperature ?? 1), u, e, out);
  return out;
}

/** Draws the next token. Greedy when temperature is 0; otherwise uses `rng`. */
export function sampleToken(
  logits: ArrayLike<number>,
  o: SamplingOptions,
  rng: UniformSource,
  context?: ArrayLike<number>,
): number {
  if (plain(o)) {
    const x = logits instanceof Float32Array ? logits : Float32Array.from(logits);
    return sampleRows(x, 1, o, [rng])[0]!;
  }
  const { ids, probs } = candidates(logits, o, context);
  if (ids.length === 1) return ids[0]!;
  const u = rng.uniform();
  let acc = 0;
  for (let i = 0; i < ids.length; i++) {
    acc += probs[i]!;
    if (u < acc) return ids[i]!;
  }
  return ids[ids.length - 1]!;
}

/** The k most probable next tokens under the model's plain distribution (temperature 1). */
export function topProbabilities(
  logits: ArrayLike<number>,
  k: number,
): { id: number; prob: number }[] {
  const p = softmax(logits);
  return topKIds(p, Math.min(k, p.length)).map((id) => ({ id, prob: p[id]! }));
}
