/**
 * A chat with a model: the history of messages, rendered to the chat layout before each reply
 * (src/chat/), and the reply generated token by token until the model closes its turn with
 * `<|im_end|>`. When the history outgrows the context, the oldest exchanges are dropped (the
 * system prompt is kept) and the caller is told how many were. What the CLI's `/tokens` and
 * `/probs` show is kept from the last exchange.
 */
import { CHAT_TOKENS, type Message } from "../chat/conversation.js";
import { renderPrompt } from "../chat/render.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { UserError } from "../util/errors.js";
import { type Decoder, type Generation, generate } from "./generate.js";
import type { SamplingOptions } from "./sampler.js";

export interface ChatOptions extends SamplingOptions {
  /** The reply's length limit in tokens (also bounded by what is left of the context). */
  maxNewTokens: number;
  seed?: number;
  system?: string;
  /** How many top next-token probabilities to keep per reply token (0 = none). */
  probsK?: number;
}

export interface ChatReply {
  text: string;
  tokens: number[];
  /** The model closed its turn with <|im_end|> (not cut by the length limit or the context). */
  ended: boolean;
  stop: Generation["stop"];
  /** The ids the model read before replying. */
  promptIds: number[];
  /** Messages dropped from the start of the history to fit the context. */
  dropped: number;
  /** Per reply token, the top next-token probabilities (when probsK > 0). */
  probs: { id: number; prob: number }[][];
}

/** The chat special tokens a tokenizer must have, or a UserError naming the missing ones. */
export function requireChatTokens(tok: Tokenizer, where: string): void {
  const need = [CHAT_TOKENS.imStart, CHAT_TOKENS.imSep, CHAT_TOKENS.imEnd];
  const missing = need.filter((t) => !tok.specialTokens.has(t));
  if (missing.length) {
    throw new UserError(
      `the tokenizer at ${where} has no chat special tokens (${missing.join(", ")})`,
      "use a tokenizer trained by `chatforge tokenizer train` (it adds them), with the model fine-tuned by `chatforge sft`",
    );
  }
}

export class ChatSession {
  messages: Message[] = [];
  last: ChatReply | null = null;
  #seed: number;

  constructor(
    readonly decoder: Decoder,
    readonly tok: Tokenizer,
    readonly o: ChatOptions,
  ) {
    this.#seed = o.seed ?? 0;
  }

  reset(): void {
    this.messages = [];
    this.last = null;
  }

  /** The messages the model reads: the system prompt, then the history. */
  #withSystem(history: Message[]): Message[] {
    return this.o.system ? [{ role: "system", content: this.o.system }, ...history] : history;
  }

  /**
   * Adds the user's message, replies, and adds the reply to the history. `onText` receives the
   * reply as it is generated.
   */
  send(text: string, onText?: (piece: string) => void): ChatReply {
    const ctx = this.decoder.contextLength;
    // leave room for a reply: the asked-for length, but at least a short answer
    const room = Math.min(this.o.maxNewTokens, Math.max(16, Math.floor(ctx / 4)));
    let history: Message[] = [...this.messages, { role: "user", content: text }];
    let prompt = renderPrompt(this.tok, this.#withSystem(history));
    let dropped = 0;
    while (prompt.length + room > ctx && history.length > 1) {
      // drop the oldest exchange (a user message and the assistant reply after it)
      const n = history[1]?.role === "assistant" ? 2 : 1;
      history = history.slice(n);
      dropped += n;
      prompt = renderPrompt(this.tok, this.#withSystem(history));
    }
    if (prompt.length >= ctx) {
      throw new UserError(
        `the message is too long: the prompt is ${prompt.length} tokens and the model's context is ${ctx}`,
        "write a shorter message (or a shorter --system prompt)",
      );
    }
    const imEnd = this.tok.specialTokenId(CHAT_TOKENS.imEnd);
    const stops = [imEnd, this.tok.specialTokenId(CHAT_TOKENS.imStart)];
    if (this.tok.specialTokens.has("<|endoftext|>"))
      stops.push(this.tok.specialTokenId("<|endoftext|>"));
    const probs: ChatReply["probs"] = [];
    const k = this.o.probsK ?? 0;
    const g = generate(this.decoder, this.tok, prompt, {
      ...this.o,
      maxNewTokens: Math.min(this.o.maxNewTokens, ctx - prompt.length),
      seed: this.#seed++,
      stopTokens: stops,
      onText,
      showProbsK: k,
      onProbs: k > 0 ? (_i, top) => probs.push(top) : undefined,
    });
    // the stop token is not in g.tokens; keep it for /tokens
    const closed = g.stopToken === imEnd;
    const reply: ChatReply = {
      text: g.text,
      tokens: closed ? [...g.tokens, imEnd] : g.tokens,
      ended: closed,
      stop: g.stop,
      promptIds: prompt,
      dropped,
      probs,
    };
    this.messages = [...history, { role: "assistant", content: g.text }];
    this.last = reply;
    return reply;
  }
}
