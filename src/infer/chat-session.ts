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
import type { Tool } from "../tools/tool.js";
import { UserError } from "../util/errors.js";
import type { SlotDecoder } from "./decoder.js";
import { Engine, type EngineEvent, type EngineOptions, type FinishReason } from "./engine.js";
import type { SamplingOptions } from "./sampler.js";

export interface ChatOptions extends SamplingOptions {
  /** The reply's length limit in tokens (also bounded by what is left of the context). */
  maxNewTokens: number;
  seed?: number;
  system?: string;
  /** How many top next-token probabilities to keep per sampled reply token (0 = none). */
  probsK?: number;
  /** The tools the model may call inside its reply (src/tools/), and the engine's limits. */
  tools?: readonly Tool[];
  engine?: EngineOptions;
}

export interface ChatReply {
  /** The reply as assistant content (tool spans and outputs as their special-token text). */
  text: string;
  /** The reply's tokens, sampled and forced, with the closing <|im_end|> if it closed. */
  tokens: number[];
  /** The model closed its turn with <|im_end|> (not cut by the length limit or the context). */
  ended: boolean;
  reason: FinishReason;
  /** Said when the reply ended oddly (a tool call left open). */
  note?: string;
  /** The ids the model read before replying. */
  promptIds: number[];
  /** Messages dropped from the start of the history to fit the context. */
  dropped: number;
  /** Per sampled token (and the sampled stop token), its id and the top probabilities then. */
  probs: { id: number; top: { id: number; prob: number }[] }[];
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
  readonly #engine: Engine;

  constructor(
    readonly decoder: SlotDecoder,
    readonly tok: Tokenizer,
    readonly o: ChatOptions,
  ) {
    this.#seed = o.seed ?? 0;
    this.#engine = new Engine(decoder, tok, o.tools ?? [], o.engine);
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
   * Adds the user's message, replies, and adds the reply to the history. `onEvent` receives the
   * engine's events as the reply is generated (tokens, tool calls and results, the finish).
   */
  send(text: string, onEvent?: (e: EngineEvent) => void): ChatReply {
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
    const probs: ChatReply["probs"] = [];
    const [r] = this.#engine.generate(
      [
        {
          prompt,
          maxNewTokens: Math.min(this.o.maxNewTokens, ctx - prompt.length),
          seed: this.#seed++,
          sampling: this.o,
          topK: this.o.probsK ?? 0,
        },
      ],
      (e) => {
        if (e.type === "token" && e.top) probs.push({ id: e.id, top: e.top });
        if (e.type === "finish" && e.top && e.stopToken !== undefined)
          probs.push({ id: e.stopToken, top: e.top });
        onEvent?.(e);
      },
    );
    const imEnd = this.tok.specialTokenId(CHAT_TOKENS.imEnd);
    const closed = r!.stopToken === imEnd;
    const reply: ChatReply = {
      text: r!.text,
      tokens: closed ? [...r!.tokens, imEnd] : r!.tokens,
      ended: closed,
      reason: r!.reason,
      promptIds: prompt,
      dropped,
      probs,
    };
    if (r!.note) reply.note = r!.note;
    // an open tool span cannot be rendered back: keep the history renderable
    const cut = Math.max(
      r!.text.lastIndexOf(CHAT_TOKENS.pythonStart),
      r!.text.lastIndexOf(CHAT_TOKENS.searchStart),
    );
    const content = r!.note && cut >= 0 ? r!.text.slice(0, cut) : r!.text;
    this.messages = [...history, { role: "assistant", content }];
    this.last = reply;
    return reply;
  }
}
