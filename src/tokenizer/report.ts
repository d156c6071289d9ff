/**
 * Looking at tokenizers: `renderTokens` shows text with coloured token boundaries and ids (like
 * the tiktokenizer app); `compressionReport` compares bytes per token of several tokenizers on
 * the same held-out text.
 */
import { existsSync, statSync } from "node:fs";
import { UserError } from "../util/errors.js";
import type { TiktokenName } from "./tiktoken-files.js";
import { Tokenizer } from "./tokenizer.js";

/** Names of the packaged tokenizers, with friendly aliases. */
export const NAMED_TOKENIZERS: Record<string, TiktokenName> = {
  gpt2: "r50k_base",
  r50k_base: "r50k_base",
  gpt4: "cl100k_base",
  cl100k_base: "cl100k_base",
  gpt4o: "o200k_base",
  o200k_base: "o200k_base",
};

/** A packaged tokenizer by name (gpt2, gpt4, gpt4o or the tiktoken names), or a saved folder. */
export async function openTokenizer(nameOrDir: string): Promise<Tokenizer> {
  const named = NAMED_TOKENIZERS[nameOrDir];
  if (named) return Tokenizer.fromTiktoken(named);
  if (!existsSync(nameOrDir) || !statSync(nameOrDir).isDirectory()) {
    throw new UserError(
      `no tokenizer "${nameOrDir}"`,
      `give a folder saved by \`chatforge tokenizer train\` or one of ${Object.keys(NAMED_TOKENIZERS).join(", ")}`,
    );
  }
  return Tokenizer.load(nameOrDir);
}

// Background colours (256-colour palette), cycled token by token, with black text.
const BG = [153, 222, 151, 217, 189, 229, 159, 223];

export interface RenderOptions {
  /** ANSI colours (default true); without them tokens are separated by "|". */
  color?: boolean;
  /** Print the ids under the text (default true). */
  ids?: boolean;
}

/** The summary line: tokens, bytes, bytes per token. */
export function tokenStats(tok: Tokenizer, ids: number[]): string {
  const bytes = tok.decodeBytes(ids).length;
  const bpt = ids.length ? (bytes / ids.length).toFixed(2) : "-";
  return `${ids.length} tokens, ${bytes} bytes, ${bpt} bytes/token (${tok.name})`;
}

/**
 * `text`'s tokens, each on its own background colour. A token that ends inside a multi-byte
 * character is shown together with the token that completes it. Newlines show as ↵, tabs as →.
 */
export function renderTokens(tok: Tokenizer, ids: number[], opts: RenderOptions = {}): string {
  const color = opts.color ?? true;
  const dec = tok.streamDecoder();
  const parts: string[] = [];
  let k = 0;
  for (const id of ids) {
    const piece = dec.push(id);
    if (!piece) continue;
    const shown = piece.replace(/\n/g, "↵\n").replace(/\t/g, "→");
    if (color) {
      const bg = tok.isSpecial(id) ? 208 : BG[k % BG.length];
      parts.push(
        shown
          .split("\n")
          .map((line) => (line ? `\x1b[48;5;${bg}m\x1b[30m${line}\x1b[0m` : line))
          .join("\n"),
      );
    } else {
      parts.push(shown);
    }
    k++;
  }
  const rest = dec.flush();
  if (rest) parts.push(rest);
  let out = parts.join(color ? "" : "|");
  if (opts.ids ?? true) out += `\n\n[${ids.join(", ")}]`;
  return `${out}\n${tokenStats(tok, ids)}\n`;
}

export interface CompressionRow {
  name: string;
  vocabSize: number;
  tokens: number;
  bytes: number;
  bytesPerToken: number;
}

/** Bytes per token of each tokenizer on the same texts (special-token text counts as text). */
export function compressionReport(tokenizers: Tokenizer[], texts: string[]): CompressionRow[] {
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t);
  return tokenizers.map((tok) => {
    let tokens = 0;
    for (const t of texts) tokens += tok.encodeOrdinary(t).length;
    return {
      name: tok.name,
      vocabSize: tok.vocabSize,
      tokens,
      bytes,
      bytesPerToken: tokens ? bytes / tokens : 0,
    };
  });
}

/** The report as a text table; ratios are relative to the first row. */
export function formatCompressionReport(rows: CompressionRow[]): string {
  const head = ["tokenizer", "vocab", "tokens", "bytes/token", "vs first"];
  const base = rows[0]?.bytesPerToken ?? 1;
  const body = rows.map((r) => [
    r.name,
    String(r.vocabSize),
    String(r.tokens),
    r.bytesPerToken.toFixed(3),
    `${(r.bytesPerToken / base).toFixed(2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), ...body.map(line)].join("\n");
}
