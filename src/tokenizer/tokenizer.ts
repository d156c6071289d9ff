/**
 * A byte-level BPE tokenizer: split pattern → chunks → bytes → merges → ids, plus special tokens.
 *
 * Id layout: ids 0..ranks.size-1 are ranked byte strings (for our trained tokenizers, 0..255 are
 * the single bytes in byte order and 256.. the merges in the order they were learned); special
 * tokens come after them (tiktoken's files place theirs the same way, sometimes with gaps).
 *
 * Special tokens follow tiktoken's `allowedSpecial` / `disallowedSpecial` rules: by default the
 * text of a special token inside the input is an error (so that user content can never smuggle in
 * `<|im_start|>`); allowed ones become their ids; with `disallowedSpecial: []` (or
 * `encodeOrdinary`) such text is encoded as ordinary text.
 */
import { UserError } from "../util/errors.js";
import { type BpeRanks, mergeChunk } from "./bpe.js";
import { ChunkCache, hashChunk } from "./chunk-cache.js";
import { loadTokenizer, saveTokenizer } from "./format.js";
import { scannerFor } from "./patterns.js";
import type { Scanner } from "./scanners.js";
import { loadTiktokenRanks, TIKTOKEN_ENCODINGS, type TiktokenName } from "./tiktoken-files.js";

export interface EncodeOptions {
  /** Special tokens whose text becomes the special id: "all" or a list. Default: none. */
  allowedSpecial?: "all" | Iterable<string>;
  /** Special tokens whose text is an error: "all" (default: every special not allowed) or a list. */
  disallowedSpecial?: "all" | Iterable<string>;
}

export interface TokenizerParts {
  /** A short name recorded in configs and reports (e.g. "cl100k_base", "chatforge-8k"). */
  name: string;
  /** The split pattern (Rust regex dialect, see regex.ts). */
  pattern: string;
  ranks: BpeRanks;
  /** Special token text → id. */
  specialTokens: Record<string, number>;
}

/** Chunks longer than this (code units) are not cached. */
const CACHE_MAX_CHUNK = 64;

const encoder = new TextEncoder();

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export class Tokenizer {
  readonly name: string;
  readonly pattern: string;
  readonly ranks: BpeRanks;
  /** Special token text → id. */
  readonly specialTokens: ReadonlyMap<string, number>;
  /** Number of ids, including special tokens (max id + 1). */
  readonly vocabSize: number;
  readonly #scanner: Scanner;
  readonly #specialById = new Map<number, Uint8Array>();
  readonly #cache = new ChunkCache();
  #buf = new Uint8Array(1024);
  #specialRe: RegExp | undefined;

  constructor(parts: TokenizerParts) {
    this.name = parts.name;
    this.pattern = parts.pattern;
    this.ranks = parts.ranks;
    this.#scanner = scannerFor(parts.pattern);
    const specials = new Map<string, number>();
    let maxId = parts.ranks.size - 1;
    for (const [text, id] of Object.entries(parts.specialTokens)) {
      if (!Number.isInteger(id) || id < 0)
        throw new UserError(`special token ${text}: bad id ${id}`);
      if (parts.ranks.has(id) || this.#specialById.has(id)) {
        throw new UserError(`special token ${text}: id ${id} is already taken`);
      }
      specials.set(text, id);
      this.#specialById.set(id, encoder.encode(text));
      maxId = Math.max(maxId, id);
    }
    this.specialTokens = specials;
    this.vocabSize = maxId + 1;
  }

  /** Loads a tokenizer saved with `save` (a folder with a config JSON and a ranks file). */
  static load(dir: string): Promise<Tokenizer> {
    return loadTokenizer(dir);
  }

  /** Saves this tokenizer into `dir`, each file atomically (see format.ts). */
  save(dir: string): Promise<void> {
    return saveTokenizer(this, dir);
  }

  /** GPT-2's, GPT-4's or GPT-4o's tokenizer, from the rank files packaged in node_modules. */
  static fromTiktoken(name: TiktokenName): Tokenizer {
    const ranks = loadTiktokenRanks(name);
    const { pattern, specialTokens } = TIKTOKEN_ENCODINGS[name];
    return new Tokenizer({ name, pattern, ranks, specialTokens });
  }

  /** The id of a special token; a `UserError` if this tokenizer does not have it. */
  specialTokenId(token: string): number {
    const id = this.specialTokens.get(token);
    if (id === undefined) {
      throw new UserError(
        `unknown special token ${JSON.stringify(token)} for tokenizer ${this.name}`,
        `known special tokens: ${[...this.specialTokens.keys()].join(" ") || "(none)"}`,
      );
    }
    return id;
  }

  /** True if `id` is one of the special tokens. */
  isSpecial(id: number): boolean {
    return this.#specialById.has(id);
  }

  /** Encodes `text`, treating special-token text as plain text. */
  encodeOrdinary(text: string): number[] {
    const out: number[] = [];
    this.#encodeOrdinaryInto(text, out);
    return out;
  }

  /** Encodes `text` with tiktoken's special-token rules (see `EncodeOptions`). */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const all = [...this.specialTokens.keys()];
    const allowed = new Set(opts.allowedSpecial === "all" ? all : (opts.allowedSpecial ?? []));
    for (const s of allowed) this.specialTokenId(s); // unknown names are an error
    const disallowed =
      opts.disallowedSpecial === undefined || opts.disallowedSpecial === "all"
        ? all.filter((s) => !allowed.has(s))
        : [...opts.disallowedSpecial];
    for (const s of disallowed) {
      this.specialTokenId(s);
      const at = text.indexOf(s);
      if (at >= 0) {
        throw new UserError(
          `the text contains the special token ${JSON.stringify(s)} (at offset ${at}), which is disallowed`,
          "to encode it as the special token, allow it (allowedSpecial, CLI --allowed-special); " +
            "to encode it as plain text, use disallowedSpecial: [] or encodeOrdinary (CLI --ordinary)",
        );
      }
    }
    const out: number[] = [];
    if (allowed.size === 0) {
      this.#encodeOrdinaryInto(text, out);
      return out;
    }
    const re =
      allowed.size === this.specialTokens.size
        ? (this.#specialRe ??= new RegExp(all.map(escapeRegex).join("|"), "g"))
        : new RegExp([...allowed].map(escapeRegex).join("|"), "g");
    let last = 0;
    for (const m of text.matchAll(re)) {
      if (m.index > last) this.#encodeOrdinaryInto(text.slice(last, m.index), out);
      out.push(this.specialTokens.get(m[0])!);
      last = m.index + m[0].length;
    }
    if (last < text.length) this.#encodeOrdinaryInto(text.slice(last), out);
    return out;
  }

  /** Encodes many texts (same options for each). */
  encodeBatch(texts: readonly string[], opts: EncodeOptions = {}): number[][] {
    return texts.map((t) => this.encode(t, opts));
  }

  /** Decodes many id sequences. */
  decodeBatch(batch: readonly ArrayLike<number>[]): string[] {
    return batch.map((ids) => this.decode(ids));
  }

  #encodeOrdinaryInto(text: string, out: number[]): void {
    const cache = this.#cache;
    this.#scanner(text, (s, e) => {
      if (e - s > CACHE_MAX_CHUNK) {
        this.#encodeChunk(text.slice(s, e), out);
        return;
      }
      const h = hashChunk(text, s, e);
      if (cache.get(text, s, e, h, out)) return;
      const piece = text.slice(s, e);
      const from = out.length;
      this.#encodeChunk(piece, out);
      cache.set(piece, h, out, from);
    });
  }

  /** BPE on the UTF-8 bytes of one chunk (lone surrogates become U+FFFD, as in TextEncoder). */
  #encodeChunk(piece: string, out: number[]): void {
    const need = piece.length * 3;
    if (this.#buf.length < need) this.#buf = new Uint8Array(need * 2);
    const n = encoder.encodeInto(piece, this.#buf).written;
    mergeChunk(this.ranks, this.#buf, n, out);
  }

  /** The bytes of one token (special tokens: their UTF-8 text). */
  tokenBytes(id: number): Uint8Array {
    if (this.ranks.has(id)) return this.ranks.tokenBytes(id);
    const sp = this.#specialById.get(id);
    if (sp) return sp;
    throw new UserError(
      `token id ${id} is not in the vocabulary of ${this.name} (size ${this.vocabSize})`,
    );
  }

  /** The concatenated bytes of `ids`. */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let n = 0;
    for (let i = 0; i < ids.length; i++) n += this.tokenBytes(ids[i]!).length;
    const out = new Uint8Array(n);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.tokenBytes(ids[i]!);
      out.set(b, o);
      o += b.length;
    }
    return out;
  }

  /** The text of `ids`; invalid UTF-8 (e.g. a cut multi-byte character) decodes to U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }

  /** A decoder for ids that arrive one at a time (see `StreamDecoder`). */
  streamDecoder(): StreamDecoder {
    return new StreamDecoder(this);
  }
}

/**
 * Decodes a stream of ids into text pieces that are always valid UTF-8: the bytes of a character
 * split across tokens are held back until the character is complete.
 */
export class StreamDecoder {
  readonly #tok: Tokenizer;
  readonly #dec = new TextDecoder("utf-8", { fatal: false });

  constructor(tok: Tokenizer) {
    this.#tok = tok;
  }

  /** Adds ids; returns the text they complete (possibly ""). */
  push(ids: number | ArrayLike<number>): string {
    const bytes = typeof ids === "number" ? this.#tok.tokenBytes(ids) : this.#tok.decodeBytes(ids);
    return this.#dec.decode(bytes, { stream: true });
  }

  /** Ends the stream; returns what is left (an unfinished character decodes to U+FFFD). */
  flush(): string {
    return this.#dec.decode();
  }
}
