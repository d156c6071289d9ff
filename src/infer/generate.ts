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
}

export function generate(
  decoder: Decoder,
  tokenizer: TokenDecoder,
  prompt: number[],
  o: GenerateOptions,
): Generation {
  validateSampling(o);
  if (prompt.length === 0)
    throw new UserError("the prompt is empty", "give at least one token of prompt");
  if (prompt.length >= decoder.contextLength) {
    throw new UserError(
      `the prompt has ${prompt.length} tokens but the model's context is ${decoder.contextLength}`,
      "shorten the prompt",
    );
  }
  const rng = new Rng(o.seed ?? 0);
  const stopTokens = new Set(o.stopTokens ?? []);
  const stopStrings = (o.stopStrings ?? []).filter((s) => s.length > 0);
  const utf8 = new TextDecoder("utf-8", { fatal: false });
  const context = [...prompt];
  const tokens: number[] = [];
  let text = "";
  let emitted = 0;
  let stop: Generation["stop"] = "length";

  decoder.reset();
  let logits = decoder.step(Int32Array.from(prompt), 1, prompt.length);
  for (let i = 0; i < o.maxNewTokens; i++) {
    const id = sampleToken(logits, o, rng, o.repetitionPenalty ? context : undefined);
    if (o.onProbs) o.onProbs(i, topProbabilities(logits, o.showProbsK ?? 5), id);
    if (stopTokens.has(id)) {
      stop = "stop-token";
      break;
    }
    tokens.push(id);
    context.push(id);
    text += utf8.decode(tokenizer.decodeBytes([id]), { stream: true });
    const hit = firstStop(text, stopStrings);
    if (hit >= 0) {
      text = text.slice(0, hit);
      stop = "stop-string";
      break;
    }
    // emit what can no longer become part of a stop string
    const safe = text.length - longestStopPrefixSuffix(text, stopStrings);
    if (o.onText && safe > emitted) {
      o.onText(text.slice(emitted, safe));
      emitted = safe;
    }
    if (context.length >= decoder.contextLength) {
      stop = "context";
      break;
    }
    logits = decoder.step(Int32Array.of(id), 1, 1);
  }
  if (stop !== "stop-string") text += utf8.decode();
  if (o.onText && text.length > emitted) o.onText(text.slice(emitted));
  return { tokens, text, stop };
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
