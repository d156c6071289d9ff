/**
 * Our byte-level BPE tokenizer, embedded in GGUF metadata the way llama.cpp reads a "gpt2"-type
 * (byte-level BPE) vocabulary, so that llama.cpp tokenizes text to exactly our ids:
 *
 *   tokenizer.ggml.model        "gpt2"                byte-level BPE with merges
 *   tokenizer.ggml.pre          "gpt-2" | "llama-bpe" the split pattern: GPT-2's (r50k) or GPT-4's
 *                                                      (cl100k; llama.cpp spells its case-insensitive
 *                                                      contractions as '[sS]|'[tT]|…)
 *   tokenizer.ggml.tokens       string[vocab]         each token's bytes through GPT-2's
 *                                                      byte→unicode map; special tokens as their text
 *   tokenizer.ggml.token_type   i32[vocab]            1 normal, 3 control (our special tokens),
 *                                                      5 unused (ids with no token, e.g. cl100k's gaps)
 *   tokenizer.ggml.merges       string[]              "left right" (both mapped), lowest rank first
 *   tokenizer.ggml.bos_token_id / eos_token_id  u32   <|endoftext|>
 *   tokenizer.ggml.add_bos_token / add_eos_token false (we add special tokens ourselves)
 *   tokenizer.ggml.eot_token_id u32, tokenizer.chat_template string: when the tokenizer has the
 *                                                      chat tokens (<|im_end|> ends a turn; the
 *                                                      template is src/chat/template.ts)
 *
 * Merges are recovered from the ranks: tiktoken-style tokenizers store only ranked byte strings.
 * For each multi-byte token, in rank order, BPE is run on its bytes using only lower-ranked tokens;
 * it stops with exactly two parts, and that pair is the merge that creates the token.
 */
import { CHATML_TEMPLATE, hasChatTokens } from "../../chat/template.js";
import { CL100K_PATTERN, R50K_PATTERN } from "../../tokenizer/index.js";
import { UserError } from "../../util/errors.js";
import { type GgufType, type GgufValue, kv } from "./gguf.js";

/** What the export needs from a tokenizer (`Tokenizer` from src/tokenizer satisfies it). */
export interface TokenizerSource {
  readonly vocabSize: number;
  /** The split pattern (regex source). */
  readonly pattern: string;
  readonly specialTokens: ReadonlyMap<string, number>;
  /** A token's bytes (special tokens: their UTF-8 text); may throw for an id with no token. */
  tokenBytes(id: number): Uint8Array;
}

/** llama.cpp token types (llama.h `llama_token_type`). */
export const TOKEN_TYPE = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
};

/** The llama.cpp pre-tokenizer name for a split pattern. */
export function ggufPreTokenizer(pattern: string): "gpt-2" | "llama-bpe" {
  if (pattern === R50K_PATTERN) return "gpt-2";
  if (pattern === CL100K_PATTERN) return "llama-bpe";
  // Not o200k: llama.cpp's "gpt-4o" pre-tokenizer splits differently from tiktoken after a
  // combining mark (e.g. "{\u0301/d": tiktoken "/d", llama.cpp "/" "d"; 18 of 3,023 fuzz strings).
  throw new UserError(
    `llama.cpp has no pre-tokenizer known to match the split pattern ${JSON.stringify(pattern.slice(0, 60))}…`,
    "GGUF export supports tokenizers with GPT-2's (r50k) or GPT-4's (cl100k) split pattern",
  );
}

/**
 * GPT-2's byte → unicode map: the printable bytes '!'..'~', '¡'..'¬', '®'..'ÿ' stand for
 * themselves; the other 68 bytes (controls, space, …) become U+0100, U+0101, … in byte order.
 * It makes every token a printable string with no whitespace.
 */
export function byteToUnicode(): string[] {
  const map: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable =
      (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    map[b] = String.fromCodePoint(printable ? b : next++);
  }
  return map;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

export interface GgufVocab {
  tokens: string[];
  tokenTypes: number[];
  merges: string[];
  /** Multi-byte tokens that BPE cannot reach from lower ranks (no merge emitted for them). */
  unreachable: number[];
}

/** Builds tokens, token types and merges (see the file comment). */
export function buildGgufVocab(tok: TokenizerSource): GgufVocab {
  const b2u = byteToUnicode();
  const mapped = (bytes: string) => {
    let s = "";
    for (let i = 0; i < bytes.length; i++) s += b2u[bytes.charCodeAt(i)]!;
    return s;
  };
  const specialIds = new Set(tok.specialTokens.values());
  const keyOf: (string | undefined)[] = new Array(tok.vocabSize);
  const idOf = new Map<string, number>();
  for (let id = 0; id < tok.vocabSize; id++) {
    if (specialIds.has(id)) continue;
    let bytes: Uint8Array;
    try {
      bytes = tok.tokenBytes(id);
    } catch {
      continue; // a hole
    }
    if (bytes.length === 0) continue;
    const key = latin1(bytes);
    keyOf[id] = key;
    idOf.set(key, id);
  }
  const tokens: string[] = new Array(tok.vocabSize);
  const tokenTypes: number[] = new Array(tok.vocabSize);
  const specialText = new Map<number, string>();
  for (const [text, id] of tok.specialTokens) specialText.set(id, text);
  for (let id = 0; id < tok.vocabSize; id++) {
    const key = keyOf[id];
    if (key !== undefined) {
      tokens[id] = mapped(key);
      tokenTypes[id] = TOKEN_TYPE.NORMAL;
    } else if (specialText.has(id)) {
      tokens[id] = specialText.get(id)!;
      tokenTypes[id] = TOKEN_TYPE.CONTROL;
    } else {
      tokens[id] = `[PAD${id}]`;
      tokenTypes[id] = TOKEN_TYPE.UNUSED;
    }
  }
  // Recover merges: ids in rank order, BPE with lower-ranked tokens only.
  const merges: string[] = [];
  const unreachable: number[] = [];
  for (let id = 0; id < tok.vocabSize; id++) {
    const key = keyOf[id];
    if (key === undefined || key.length < 2) continue;
    const parts = key.split("");
    for (;;) {
      let best = -1;
      let bestRank = id;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = idOf.get(parts[i]! + parts[i + 1]!);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      parts.splice(best, 2, parts[best]! + parts[best + 1]!);
    }
    if (parts.length === 2) merges.push(`${mapped(parts[0]!)} ${mapped(parts[1]!)}`);
    else unreachable.push(id);
  }
  return { tokens, tokenTypes, merges, unreachable };
}

/** The tokenizer.* metadata entries for `tok`. */
export function tokenizerMetadata(tok: TokenizerSource): Map<string, GgufValue> {
  const pre = ggufPreTokenizer(tok.pattern);
  const v = buildGgufVocab(tok);
  if (v.merges.length === 0) {
    throw new UserError(
      "the tokenizer has no merges; llama.cpp cannot load a gpt2 vocab without them",
    );
  }
  const m = new Map<string, GgufValue>();
  m.set("tokenizer.ggml.model", kv.str("gpt2"));
  m.set("tokenizer.ggml.pre", kv.str(pre));
  m.set("tokenizer.ggml.tokens", kv.strings(v.tokens));
  m.set("tokenizer.ggml.token_type", kv.i32s(v.tokenTypes));
  m.set("tokenizer.ggml.merges", kv.strings(v.merges));
  const eot = tok.specialTokens.get("<|endoftext|>");
  if (eot !== undefined) {
    m.set("tokenizer.ggml.bos_token_id", kv.u32(eot));
    m.set("tokenizer.ggml.eos_token_id", kv.u32(eot));
  }
  const imEnd = tok.specialTokens.get("<|im_end|>");
  if (imEnd !== undefined && hasChatTokens(tok.specialTokens)) {
    m.set("tokenizer.ggml.eot_token_id", kv.u32(imEnd));
    m.set("tokenizer.chat_template", kv.str(CHATML_TEMPLATE));
  }
  m.set("tokenizer.ggml.add_bos_token", kv.bool(false));
  m.set("tokenizer.ggml.add_eos_token", kv.bool(false));
  return m;
}

/** The vocabulary stored in GGUF metadata, decoded back to token bytes and special tokens. */
export function readGgufVocab(metadata: Map<string, GgufValue>): {
  tokens: (Uint8Array | undefined)[];
  specialTokens: Record<string, number>;
  pre: string;
  merges: string[];
} {
  const get = (k: string, type?: GgufType) => {
    const v = metadata.get(k);
    if (!v) throw new UserError(`gguf: metadata key ${k} is missing`);
    if (type !== undefined && v.type !== type) throw new UserError(`gguf: ${k} has type ${v.type}`);
    return v.value;
  };
  if (get("tokenizer.ggml.model") !== "gpt2") {
    throw new UserError(
      `gguf: tokenizer.ggml.model is ${get("tokenizer.ggml.model")}, expected gpt2`,
    );
  }
  const texts = get("tokenizer.ggml.tokens") as string[];
  const types = get("tokenizer.ggml.token_type") as number[];
  const u2b = new Map<string, number>();
  byteToUnicode().forEach((c, b) => {
    u2b.set(c, b);
  });
  const tokens: (Uint8Array | undefined)[] = [];
  const specialTokens: Record<string, number> = {};
  texts.forEach((text, id) => {
    if (types[id] === TOKEN_TYPE.CONTROL) specialTokens[text] = id;
    if (types[id] !== TOKEN_TYPE.NORMAL) return;
    const chars = [...text];
    const bytes = new Uint8Array(chars.length);
    chars.forEach((c, i) => {
      const b = u2b.get(c);
      if (b === undefined)
        throw new UserError(`gguf: token ${id} has a character outside the byte map`);
      bytes[i] = b;
    });
    tokens[id] = bytes;
  });
  tokens.length = texts.length;
  return {
    tokens,
    specialTokens,
    pre: String(get("tokenizer.ggml.pre")),
    merges: get("tokenizer.ggml.merges") as string[],
  };
}
