/**
 * Our saved tokenizer format: a folder with
 * - `ranks.tiktoken`: the ranked byte strings, one `<base64> <id>` line each (tiktoken's format,
 *   so tiktoken itself can load them);
 * - `tokenizer-config.json`: `{ format, version, name, pattern, specialTokens: {text: id},
 *   vocabSize, ranksSha256 }`.
 * Each file is written atomically, the config last: a folder with a config is complete, and the
 * checksum catches a ranks file from a different save.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { BpeRanks } from "./bpe.js";
import { formatTiktokenRanks, parseTiktokenRanks } from "./tiktoken-files.js";
import { Tokenizer } from "./tokenizer.js";

export const CONFIG_FILE = "tokenizer-config.json";
export const RANKS_FILE = "ranks.tiktoken";
const FORMAT = "chatforge-bpe";
const VERSION = 1;

export interface TokenizerConfig {
  format: typeof FORMAT;
  version: number;
  name: string;
  pattern: string;
  specialTokens: Record<string, number>;
  vocabSize: number;
  ranksSha256: string;
}

/** Saves `tok` into `dir` (created if needed). */
export async function saveTokenizer(tok: Tokenizer, dir: string): Promise<void> {
  const ranks = formatTiktokenRanks(tok.ranks);
  await writeFileAtomic(join(dir, RANKS_FILE), ranks);
  const config: TokenizerConfig = {
    format: FORMAT,
    version: VERSION,
    name: tok.name,
    pattern: tok.pattern,
    specialTokens: Object.fromEntries(tok.specialTokens),
    vocabSize: tok.vocabSize,
    ranksSha256: createHash("sha256").update(ranks).digest("hex"),
  };
  await writeJsonAtomic(join(dir, CONFIG_FILE), config);
}

/** Loads a tokenizer saved by `saveTokenizer`. */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const configPath = join(dir, CONFIG_FILE);
  let config: TokenizerConfig;
  try {
    config = JSON.parse(await readFile(configPath, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new UserError(
        `no tokenizer in ${dir} (missing ${CONFIG_FILE})`,
        "train one with `chatforge tokenizer train`, or point at the folder that holds it",
      );
    }
    throw new UserError(`${configPath}: not valid JSON (${(err as Error).message})`);
  }
  if (config.format !== FORMAT || config.version !== VERSION) {
    throw new UserError(
      `${configPath}: unsupported format ${config.format} v${config.version} (expected ${FORMAT} v${VERSION})`,
    );
  }
  const ranksPath = join(dir, RANKS_FILE);
  const text = await readFile(ranksPath, "latin1");
  const sha = createHash("sha256").update(text, "latin1").digest("hex");
  if (sha !== config.ranksSha256) {
    throw new UserError(
      `${ranksPath} does not match ${configPath} (checksum differs)`,
      "the folder holds parts of two different saves; save the tokenizer again",
    );
  }
  const ranks = new BpeRanks(parseTiktokenRanks(text, ranksPath));
  return new Tokenizer({
    name: config.name,
    pattern: config.pattern,
    ranks,
    specialTokens: config.specialTokens,
  });
}
