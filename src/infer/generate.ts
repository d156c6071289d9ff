/**
 * Token-by-token generation: feed the prompt once (filling the KV cache), then repeatedly
 * sample a token and feed it back, until `maxNewTokens`, a stop token, a stop string, or the
 * end of the context. Text is decoded incrementally with a streaming UTF-8 decoder, so a
 * character split across tokens is emitted only once complete; text that could still become a
 * stop string is held back until it cannot.
 */
import { Rng } from "../tensor/rng.js";
import { UserError } from "../util/errors.js";
import {
  type SamplingOptions,
  sampleRows,
  sampleToken,
  topProbabilities,
  validateSampling,
} from "./sampler.js";

/** What generation needs from a model: feed tokens, get next-token logits. */
export interface Decoder {
  readonly contextLength: number;
  readonly pos: number;
  reset(): void;
  /** Feeds [B, n] ids; returns [B, V] logits for the last new position of each row. */
  step(ids: Int32Array, B: number, n: number): Float32Array;
}

/** What generation needs from a tokenizer. */
export interface TokenDecoder {
  decodeBytes(ids: ArrayLike<number>): Uint8Array;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed?: number;
  /** Token ids that end generation (not included in the output). */
  stopTokens?: number[];
  /** Strings that end generation (cut from the output). */
  stopStrings?: string[];
  /** Called with each new piece of text as soon as it is final. */
  onText?: (text: string) => void;
  /** Called for each step with the top next-token probabilities (for --show-probs). */
  onProbs?: (step: number, top: { id: number; prob: number }[], chosen: number) => void;
  showProbsK?: number;
}

export interface Generation {
  tokens: number[];
  text: string;
  stop: "length" | "stop-token" | "stop-string" | "context";
  /** The stop token that ended generation (when stop is "stop-token"). */
  stopToken?: number;
}

export function generate(
  decoder: Decoder,
  tokenizer: TokenDecoder,
  prompt: number[],
  o: GenerateOptions,
): Generation {
  checkPrompt(decoder, prompt, o);
  const rng = new Rng(o.seed ?? 0);
  const seq = new Continuation(tokenizer, prompt, o, o.onText);
  decoder.reset();
  let logits = decoder.step(Int32Array.from(prompt), 1, prompt.length);
  for (let i = 0; i < o.maxNewTokens; i++) {
    const id = sampleToken(logits, o, rng, o.repetitionPenalty ? seq.context : undefined);
    if (o.onProbs) o.onProbs(i, topProbabilities(logits, o.showProbsK ?? 5), id);
    if (!seq.push(id, decoder.contextLength)) break;
    logits = decoder.step(Int32Array.of(id), 1, 1);
  }
  return seq.finish();
}

/**
 * n continuations of one prompt, decoded together as one batch: every step is one pass over the
 * weights for all of them, so n samples cost far less than n runs of `generate`. Continuation
 * i draws with seed (o.seed ?? 0) + i and stops on its own (a finished row is fed its last
 * token until the others finish). The decoder must have been made for a batch of at least n.
 * Each continuation's tokens are what `generate` with that seed gives, up to the float32
 * rounding differences between batched and single-row matmuls. No streaming (`onText`,
 * `onProbs` are not called).
 */
export function generateBatch(
  decoder: Decoder,
  tokenizer: TokenDecoder,
  prompt: number[],
  o: GenerateOptions,
  n: number,
): Generation[] {
  checkPrompt(decoder, prompt, o);
  const rngs = Array.from({ length: n }, (_, i) => new Rng((o.seed ?? 0) + i));
  const seqs = rngs.map(() => new Continuation(tokenizer, prompt, o));
  const ids = new Int32Array(n * prompt.length);
  for (let i = 0; i < n; i++) ids.set(prompt, i * prompt.length);
  decoder.reset();
  let logits = decoder.step(ids, n, prompt.length);
  const last = new Int32Array(n);
  for (let step = 0; step < o.maxNewTokens; step++) {
    const contexts = o.repetitionPenalty ? seqs.map((q) => q.context) : undefined;
    const next = sampleRows(logits, n, o, rngs, contexts);
    let open = 0;
    for (let i = 0; i < n; i++) {
      if (seqs[i]!.open && seqs[i]!.push(next[i]!, decoder.contextLength)) {
        last[i] = next[i]!;
        open++;
      }
    }
    if (open === 0) break;
    logits = decoder.step(last, n, 1);
  }
  return seqs.map((q) => q.finish());
}

function checkPrompt(decoder: Decoder, prompt: number[], o: GenerateOptions): void {
  validateSampling(o);
  if (prompt.length === 0)
    throw new UserError("the prompt is empty", "give at least one token of prompt");
  if (prompt.length >= decoder.contextLength) {
    throw new UserError(
      `the prompt has ${prompt.length} tokens but the model's context is ${decoder.contextLength}`,
      "shorten the prompt",
    );
  }
}

/**
 * One sequence being generated: its context and tokens, its text decoded incrementally (a
 * character split across tokens appears once complete), its stop conditions, and the text it
 * may already emit (what can no longer become part of a stop string).
 */
class Continuation {
  readonly context: number[];
  readonly tokens: number[] = [];
  open = true;
  #text = "";
  #emitted = 0;
  #stop: Generation["stop"] = "length";
  #stopToken: number | undefined;
  readonly #utf8 = new TextDecoder("utf-8", { fatal: false });
  readonly #stopTokens: Set<number>;
  readonly #stopStrings: string[];

  constructor(
    readonly tokenizer: TokenDecoder,
    prompt: number[],
    o: GenerateOptions,
    readonly onText?: (text: string) => void,
  ) {
    this.context = [...prompt];
    this.#stopTokens = new Set(o.stopTokens ?? []);
    this.#stopStrings = (o.stopStrings ?? []).filter((s) => s.length > 0);
  }

  /** Takes the next token; false when the sequence has ended (stop token, string, context). */
  push(id: number, contextLength: number): boolean {
    if (this.#stopTokens.has(id)) {
      this.#stopToken = id;
      return this.#end("stop-token");
    }
    this.tokens.push(id);
    this.context.push(id);
    this.#text += this.#utf8.decode(this.tokenizer.decodeBytes([id]), { stream: true });
    const hit = firstStop(this.#text, this.#stopStrings);
    if (hit >= 0) {
      this.#text = this.#text.slice(0, hit);
      return this.#end("stop-string");
    }
    const safe = this.#text.length - longestStopPrefixSuffix(this.#text, this.#stopStrings);
    if (this.onText && safe > this.#emitted) {
      this.onText(this.#text.slice(this.#emitted, safe));
      this.#emitted = safe;
    }
    if (this.context.length >= contextLength) return this.#end("context");
    return true;
  }

  #end(stop: Generation["stop"]): false {
    this.#stop = stop;
    this.open = false;
    return false;
  }

  /** The result; flushes the decoder and emits the rest of the text. */
  finish(): Generation {
    if (this.#stop !== "stop-string") this.#text += this.#utf8.decode();
    if (this.onText && this.#text.length > this.#emitted) {
      this.onText(this.#text.slice(this.#emitted));
    }
    const g: Generation = { tokens: this.tokens, text: this.#text, stop: this.#stop };
    if (this.#stopToken !== undefined) g.stopToken = this.#stopToken;
    return g;
  }
}

function firstStop(text: string, stops: string[]): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
function longestStopPrefixSuffix(text: string, stops: string[]): number {
  let best = 0;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > best; k--) {
      if (text.endsWith(s.slice(0, k))) {
        best = k;
        break;
      }
    }
  }
  return best;
}
