/**
 * Rendering a conversation into token ids plus a loss mask (DESIGN.md §4):
 *
 *   <|im_start|>system<|im_sep|>…<|im_end|><|im_start|>user<|im_sep|>…<|im_end|>
 *   <|im_start|>assistant<|im_sep|>…<|im_end|>
 *
 * No BOS: a conversation starts at `<|im_start|>`; turns follow each other with no separator. The
 * role name between `<|im_start|>` and `<|im_sep|>` is ordinary text. A `tool` message (an
 * OpenAI-style tool result) is a turn of its own, `<|im_start|>tool<|im_sep|>…<|im_end|>`; OpenAI's
 * `developer` role renders as `system`.
 *
 * The mask rules live in `assistantContent` and `renderMessages` below. mask[i] = 1 (trained on):
 * assistant content, including the tool-call spans it writes (`<|python_start|>…<|python_end|>`,
 * `<|search_start|>…<|search_end|>`, both tokens and what is between them), and the `<|im_end|>`
 * that closes an assistant turn. mask[i] = 0: system, user and tool turns entirely, every role header
 * (`<|im_start|>assistant<|im_sep|>` too), and tool outputs inside assistant content
 * (`<|output_start|>…<|output_end|>`, both tokens and what is between them: the engine writes them).
 *
 * Special-token text: system, user and tool contents are encoded as ordinary text, so a user who
 * types "<|im_end|>" gets the characters, never the token. Assistant content may contain the
 * tool-span tokens (as their text, e.g. "<|python_start|>2+2<|python_end|>"), which become the
 * special ids; any other special-token text in it is an error. Spans must be closed and not nested.
 *
 * To add a tool span: its start/end tokens in DEFAULT_SPECIAL_TOKENS (src/tokenizer/train.ts) and
 * CHAT_TOKENS, and a row in `SPANS` (`trained: true` for what the model writes, false for what the
 * engine writes).
 */
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { UserError } from "../util/errors.js";
import { CHAT_TOKENS, type Conversation, type Message } from "./conversation.js";
import { TEMPLATE_TOKENS } from "./template.js";
import { type ConversationEnd, checkConversation, normalizeRole } from "./validate.js";

/** The spans assistant content may contain, and whether the model is trained to write them. */
export const SPANS = [
  { start: CHAT_TOKENS.pythonStart, end: CHAT_TOKENS.pythonEnd, trained: true },
  { start: CHAT_TOKENS.searchStart, end: CHAT_TOKENS.searchEnd, trained: true },
  { start: CHAT_TOKENS.outputStart, end: CHAT_TOKENS.outputEnd, trained: false },
] as const;

/** The chat token ids of one tokenizer. */
export interface ChatTokenIds {
  imStart: number;
  imSep: number;
  imEnd: number;
  /** `<|endoftext|>` if the tokenizer has it (packing pads with it). */
  endOfText: number | undefined;
  /** Span start id → its end id and whether it is trained (only spans the tokenizer has). */
  spans: Map<number, { end: number; trained: boolean; start: string; endText: string }>;
  /** Span end ids. */
  spanEnds: Set<number>;
  /** The special-token texts assistant content may contain (the spans' tokens). */
  assistantSpecials: string[];
}

const cache = new WeakMap<Tokenizer, ChatTokenIds>();

/** The chat token ids of `tok`; a `UserError` if it lacks `<|im_start|>`, `<|im_sep|>`, `<|im_end|>`. */
export function chatTokenIds(tok: Tokenizer): ChatTokenIds {
  const hit = cache.get(tok);
  if (hit) return hit;
  const missing = TEMPLATE_TOKENS.filter((t) => !tok.specialTokens.has(t));
  if (missing.length > 0) {
    throw new UserError(
      `tokenizer ${tok.name} has no ${missing.join(", ")}: it cannot render conversations`,
      "train a tokenizer with chatforge's default special tokens (DEFAULT_SPECIAL_TOKENS)",
    );
  }
  const spans: ChatTokenIds["spans"] = new Map();
  const spanEnds = new Set<number>();
  const assistantSpecials: string[] = [];
  for (const s of SPANS) {
    const a = tok.specialTokens.get(s.start);
    const b = tok.specialTokens.get(s.end);
    if (a === undefined || b === undefined) continue;
    spans.set(a, { end: b, trained: s.trained, start: s.start, endText: s.end });
    spanEnds.add(b);
    assistantSpecials.push(s.start, s.end);
  }
  const ids: ChatTokenIds = {
    imStart: tok.specialTokens.get(CHAT_TOKENS.imStart)!,
    imSep: tok.specialTokens.get(CHAT_TOKENS.imSep)!,
    imEnd: tok.specialTokens.get(CHAT_TOKENS.imEnd)!,
    endOfText: tok.specialTokens.get("<|endoftext|>"),
    spans,
    spanEnds,
    assistantSpecials,
  };
  cache.set(tok, ids);
  return ids;
}

/** Token ids and loss mask of a rendered conversation (mask[i] = 1: ids[i] is trained on). */
export interface RenderedConversation {
  ids: number[];
  mask: Uint8Array;
}

export interface RenderOptions {
  /** Names the conversation in errors (e.g. `sft.jsonl:12`). */
  where?: string;
  /** A `UserError` if the rendering is longer than this many tokens. */
  maxTokens?: number;
}

/** Assistant content → ids and mask (see the file comment for the rules). */
function assistantContent(
  tok: Tokenizer,
  t: ChatTokenIds,
  content: string,
  at: string,
): { ids: number[]; mask: number[] } {
  const allowed = new Set(t.assistantSpecials);
  for (const s of tok.specialTokens.keys()) {
    if (allowed.has(s)) continue;
    const off = content.indexOf(s);
    if (off >= 0) {
      throw new UserError(
        `${at}: assistant content contains the special token ${s} (at offset ${off})`,
        `assistant content may contain only the tool-span tokens (${t.assistantSpecials.join(" ") || "none in this tokenizer"})`,
      );
    }
  }
  const ids = tok.encode(content, { allowedSpecial: t.assistantSpecials, disallowedSpecial: [] });
  const mask: number[] = new Array(ids.length);
  let open: { end: number; trained: boolean; start: string; endText: string } | undefined;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const span = t.spans.get(id);
    if (span) {
      if (open) {
        throw new UserError(
          `${at}: ${span.start} inside ${open.start}…${open.endText} (spans do not nest)`,
        );
      }
      open = span;
      mask[i] = span.trained ? 1 : 0;
    } else if (t.spanEnds.has(id)) {
      if (!open || open.end !== id) {
        const text = tok.decode([id]);
        throw new UserError(
          `${at}: ${text} without its start${open ? ` (inside ${open.start}…${open.endText})` : ""}`,
        );
      }
      mask[i] = open.trained ? 1 : 0;
      open = undefined;
    } else {
      mask[i] = open && !open.trained ? 0 : 1;
    }
  }
  if (open) throw new UserError(`${at}: ${open.start} is not closed by ${open.endText}`);
  return { ids, mask };
}

/** Throws if `n` tokens are more than `maxTokens`, naming the conversation and the excess. */
export function checkLength(n: number, maxTokens: number | undefined, where?: string): void {
  if (maxTokens !== undefined && n > maxTokens) {
    throw new UserError(
      `${where ?? "conversation"}: ${n} tokens, ${n - maxTokens} more than the limit of ${maxTokens}`,
      "shorten or drop it, or raise the context length",
    );
  }
}

/** Renders messages checked against `end` (the common part of the two entry points). */
export function renderMessages(
  tok: Tokenizer,
  messages: readonly Message[],
  end: ConversationEnd,
  opts: RenderOptions = {},
): RenderedConversation {
  checkConversation(messages, { where: opts.where, end });
  const t = chatTokenIds(tok);
  const ids: number[] = [];
  const mask: number[] = [];
  const push = (xs: readonly number[], m: number | readonly number[]) => {
    for (let i = 0; i < xs.length; i++) {
      ids.push(xs[i]!);
      mask.push(typeof m === "number" ? m : m[i]!);
    }
  };
  messages.forEach((msg, i) => {
    const at = `${opts.where ?? "conversation"}: message ${i + 1}`;
    const role = normalizeRole(msg.role, at);
    push([t.imStart, ...tok.encodeOrdinary(role), t.imSep], 0);
    if (role === "assistant") {
      const c = assistantContent(tok, t, msg.content, at);
      push(c.ids, c.mask);
      push([t.imEnd], 1);
    } else {
      push(tok.encodeOrdinary(msg.content), 0);
      push([t.imEnd], 0);
    }
  });
  checkLength(ids.length, opts.maxTokens, opts.where);
  return { ids, mask: Uint8Array.from(mask) };
}

/** A training conversation (it must end with an assistant turn) → ids and loss mask. */
export function renderConversation(
  tok: Tokenizer,
  conv: Conversation,
  opts: RenderOptions = {},
): RenderedConversation {
  if (typeof conv !== "object" || conv === null || !Array.isArray(conv.messages)) {
    throw new UserError(`${opts.where ?? "conversation"}: expected {"messages": [...]}`);
  }
  return renderMessages(tok, conv.messages, "assistant", opts);
}

/**
 * The prompt for generating the next assistant turn: the conversation so far (ending with a user or
 * tool message) plus `<|im_start|>assistant<|im_sep|>`. `maxTokens` counts the whole prompt.
 */
export function renderPrompt(
  tok: Tokenizer,
  messages: readonly Message[],
  opts: RenderOptions = {},
): number[] {
  const { ids } = renderMessages(tok, messages, "prompt", { where: opts.where });
  const t = chatTokenIds(tok);
  ids.push(t.imStart, ...tok.encodeOrdinary("assistant"), t.imSep);
  checkLength(ids.length, opts.maxTokens, opts.where);
  return ids;
}
