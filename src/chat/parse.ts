/**
 * Generated or rendered ids back to text: `parseReply` for what the model wrote after
 * `<|im_start|>assistant<|im_sep|>`, `parseConversation` for a whole rendering (the inverse of
 * `renderConversation`: `parseConversation(tok, renderConversation(tok, c).ids)` is `c`, with
 * `developer` read as `system`).
 */
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { UserError } from "../util/errors.js";
import type { Conversation, Message, Role } from "./conversation.js";
import { chatTokenIds } from "./render.js";
import { ROLES } from "./validate.js";

export interface ParsedReply {
  /** The reply's text; tool spans appear as their special-token text. */
  content: string;
  /** True if the reply was closed by `<|im_end|>`. */
  ended: boolean;
  /** How many ids belong to the content (the index of the stop token, or ids.length). */
  length: number;
}

/**
 * The assistant reply in `ids` (generated after the prompt): everything before the first
 * `<|im_end|>` (ended) — or before `<|endoftext|>` or `<|im_start|>`, which also stop it but do
 * not count as a proper end — or all of `ids` if none occurs (not ended: cut by a length limit).
 */
export function parseReply(tok: Tokenizer, ids: ArrayLike<number>): ParsedReply {
  const t = chatTokenIds(tok);
  let n = 0;
  while (n < ids.length) {
    const id = ids[n]!;
    if (id === t.imEnd || id === t.imStart || id === t.endOfText) break;
    n++;
  }
  const content = tok.decode(Array.prototype.slice.call(ids, 0, n) as number[]);
  return { content, ended: n < ids.length && ids[n] === t.imEnd, length: n };
}

/** The conversation `ids` render (strict: a `UserError` at the first id out of place). */
export function parseConversation(
  tok: Tokenizer,
  ids: ArrayLike<number>,
  where = "ids",
): Conversation {
  const t = chatTokenIds(tok);
  const messages: Message[] = [];
  let i = 0;
  const find = (from: number, target: number, what: string): number => {
    for (let j = from; j < ids.length; j++) {
      if (ids[j] === target) return j;
      if (ids[j] === t.imStart || (what === "role" && tok.isSpecial(ids[j]!))) {
        throw new UserError(`${where}: unexpected ${tok.decode([ids[j]!])} at ${j} in a ${what}`);
      }
    }
    throw new UserError(`${where}: the ${what} starting at ${from} is not closed`);
  };
  const slice = (a: number, b: number) => Array.prototype.slice.call(ids, a, b) as number[];
  while (i < ids.length) {
    if (ids[i] !== t.imStart) {
      throw new UserError(`${where}: expected <|im_start|> at ${i}, found id ${ids[i]}`);
    }
    const sep = find(i + 1, t.imSep, "role");
    const role = tok.decode(slice(i + 1, sep));
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new UserError(`${where}: unknown role ${JSON.stringify(role)} at ${i + 1}`);
    }
    const end = find(sep + 1, t.imEnd, `${role} turn`);
    messages.push({ role: role as Role, content: tok.decode(slice(sep + 1, end)) });
    i = end + 1;
  }
  if (messages.length === 0) throw new UserError(`${where}: no turns`);
  return { messages };
}
