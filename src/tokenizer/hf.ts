/**
 * Export to Hugging Face's `tokenizer.json` (byte-level BPE, as GPT-2 and Llama 3 use it), so that
 * `transformers`, `tokenizers` and tokenizers.js load our tokenizers and produce the same ids.
 *
 * - Pre-tokenizer: Split on our pattern (in a dialect both Oniguruma and JS read: `\s` spelled
 *   `\p{White_Space}`, case-insensitive groups spelled out), then ByteLevel without its own regex.
 * - Model: BPE with `ignore_merges: true` (a chunk that is a token is taken whole, as tiktoken
 *   does). Vocabulary keys are token bytes in GPT-2's byte → printable-character map.
 * - Merges: for each token, the two parts BPE reaches just before making it (found by running the
 *   merge loop on the token's bytes with only lower ranks); tokens with no such pair are reachable
 *   only whole, through `ignore_merges`.
 * - Special tokens are `added_tokens` (HF always matches them in the input: compare with our
 *   `encode(text, { allowedSpecial: "all" })`).
 * - `tokenizer_config.json`: special tokens, eos, and the chat template (see
 *   `huggingFaceTokenizerConfig`).
 */
import { join } from "node:path";
import { CHATML_TEMPLATE, hasChatTokens } from "../chat/template.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { mergeShort } from "./bpe.js";
import { translatePattern } from "./regex.js";
import type { Tokenizer } from "./tokenizer.js";

/** GPT-2's map from each byte to a printable character (printable bytes map to themselves). */
export function bytesToUnicode(): string[] {
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable =
      (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    map[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return map;
}

/** The `tokenizer.json` object for `tok`. */
export function toHuggingFaceJson(tok: Tokenizer): Record<string, unknown> {
  const b2u = bytesToUnicode();
  const ranks = tok.ranks;
  const str = (id: number) => Array.from(ranks.tokenBytes(id), (b) => b2u[b]).join("");
  const vocab: Record<string, number> = {};
  const merges: [string, string][] = [];
  const parts: number[] = [];
  for (let id = 0; id < ranks.size; id++) {
    if (!ranks.has(id)) continue;
    vocab[str(id)] = id;
    const bytes = ranks.tokenBytes(id);
    if (bytes.length < 2) continue;
    parts.length = 0;
    mergeShort(ranks, bytes, bytes.length, parts, id);
    if (parts.length === 2) merges.push([str(parts[0]!), str(parts[1]!)]);
  }
  const added = [...tok.specialTokens].map(([content, id]) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        {
          type: "Split",
          pattern: { Regex: translatePattern(tok.pattern).source },
          behavior: "Isolated",
          invert: false,
        },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab,
      merges,
    },
  };
}

/**
 * The `tokenizer_config.json` object for `tok`. Every special token is listed in
 * `added_tokens_decoder` (special, never split or stripped). With the chat tokens it carries our
 * `chat_template` (src/chat/template.ts, the same string as GGUF's `tokenizer.chat_template`),
 * `eos_token` `<|im_end|>` (what ends an assistant turn, so generation stops there) and `pad_token`
 * `<|endoftext|>`; without them `eos_token` is `<|endoftext|>`. `bos_token` is `<|endoftext|>` as
 * in the GGUF export, and nothing is added automatically (the `tokenizer.json` has no
 * post-processor; rendered conversations start at `<|im_start|>`).
 */
export function huggingFaceTokenizerConfig(tok: Tokenizer): Record<string, unknown> {
  const eot = tok.specialTokens.has("<|endoftext|>") ? "<|endoftext|>" : null;
  const chat = hasChatTokens(tok.specialTokens);
  const specials = [...tok.specialTokens].sort((a, b) => a[1] - b[1]);
  const decoder: Record<string, unknown> = {};
  for (const [content, id] of specials) {
    decoder[String(id)] = {
      content,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: true,
    };
  }
  const named = new Set([eot, chat ? "<|im_end|>" : null]);
  return {
    tokenizer_class: "PreTrainedTokenizerFast",
    added_tokens_decoder: decoder,
    additional_special_tokens: specials.map(([s]) => s).filter((s) => !named.has(s)),
    bos_token: eot,
    eos_token: chat ? "<|im_end|>" : eot,
    ...(chat ? { pad_token: eot, chat_template: CHATML_TEMPLATE } : {}),
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 1_000_000,
  };
}

/** Writes `tokenizer.json` and `tokenizer_config.json` into `dir`. */
export async function exportHuggingFace(tok: Tokenizer, dir: string): Promise<void> {
  await writeJsonAtomic(join(dir, "tokenizer.json"), toHuggingFaceJson(tok));
  await writeJsonAtomic(join(dir, "tokenizer_config.json"), huggingFaceTokenizerConfig(tok));
}
