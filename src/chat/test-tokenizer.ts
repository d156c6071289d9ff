/**
 * The tokenizer the chat tests pin ids with: cl100k_base's ranks (stable, packaged) plus
 * chatforge's DEFAULT_SPECIAL_TOKENS at 100257, 100258, … (`<|endoftext|>` first, as cl100k has
 * it). Trained tokenizers give other ids; the rules are the same.
 */
import { Tokenizer } from "../tokenizer/tokenizer.js";
import { DEFAULT_SPECIAL_TOKENS } from "../tokenizer/train.js";

let tok: Tokenizer | undefined;

export function chatTestTokenizer(): Tokenizer {
  if (tok) return tok;
  const base = Tokenizer.fromTiktoken("cl100k_base");
  tok = new Tokenizer({
    name: "cl100k-chat-test",
    pattern: base.pattern,
    ranks: base.ranks,
    specialTokens: Object.fromEntries(DEFAULT_SPECIAL_TOKENS.map((s, i) => [s, 100257 + i])),
  });
  return tok;
}
