/**
 * The whole configuration of a `data run`, as one JSON-able object. The launcher writes it to
 * `<out>/work/config.json`; every task (local worker or Slurm array element) reads it from
 * there, and completion markers record its hash, so a rerun with a different configuration
 * redoes the work instead of mixing old and new outputs.
 */
import { createHash } from "node:crypto";
import { type C4Config, DEFAULT_C4 } from "./c4.js";
import { DEFAULT_EXTRACT, type ExtractConfig } from "./extract.js";
import { DEFAULT_FINEWEB_QUALITY, type FineWebQualityConfig } from "./fineweb-quality.js";
import { DEFAULT_GOPHER_QUALITY, type GopherQualityConfig } from "./gopher-quality.js";
import { DEFAULT_GOPHER_REPETITION, type GopherRepetitionConfig } from "./gopher-repetition.js";
import { DEFAULT_LANG, type LangConfig } from "./lang.js";
import { DEFAULT_MINHASH, type MinHashConfig } from "./minhash.js";
import { DEFAULT_PII, type PiiConfig } from "./pii.js";
import { DEFAULT_URL_FILTER, type UrlFilterConfig } from "./url-filter.js";
import { DEFAULT_READ_LIMITS, type ReadLimits } from "./warc.js";

export interface DataConfig {
  /** Input files (absolute paths, sorted); file i goes to task i mod `tasks`. */
  inputs: string[];
  /** Output directory (clean shards, funnel, removed/, markers/, work/). */
  outDir: string;
  tasks: number;
  /** Write what each filter removed to removed/<stage>.jsonl.gz. */
  writeRemoved: boolean;
  read: ReadLimits;
  url: UrlFilterConfig;
  extract: ExtractConfig;
  lang: LangConfig;
  gopherRepetition: GopherRepetitionConfig;
  gopherQuality: GopherQualityConfig;
  c4: C4Config;
  fineweb: FineWebQualityConfig;
  minhash: MinHashConfig;
  pii: PiiConfig;
}

/** Every stage on, FineWeb's thresholds. */
export function defaultDataConfig(inputs: string[], outDir: string, tasks = 1): DataConfig {
  return structuredClone({
    inputs,
    outDir,
    tasks,
    writeRemoved: true,
    read: DEFAULT_READ_LIMITS,
    url: DEFAULT_URL_FILTER,
    extract: DEFAULT_EXTRACT,
    lang: DEFAULT_LANG,
    gopherRepetition: DEFAULT_GOPHER_REPETITION,
    gopherQuality: DEFAULT_GOPHER_QUALITY,
    c4: DEFAULT_C4,
    fineweb: DEFAULT_FINEWEB_QUALITY,
    minhash: DEFAULT_MINHASH,
    pii: DEFAULT_PII,
  });
}

/** The stages, in pipeline order, with the names used in the funnel and removed/ files. */
export const STAGES = [
  "read",
  "url",
  "extract",
  "lang",
  "gopher-repetition",
  "gopher-quality",
  "c4",
  "fineweb",
  "minhash",
  "pii",
] as const;
export type StageName = (typeof STAGES)[number];

/** Names accepted by `--skip` and the config key each one switches off. */
export const SWITCHABLE: Record<string, keyof DataConfig> = {
  url: "url",
  extract: "extract",
  lang: "lang",
  "gopher-repetition": "gopherRepetition",
  "gopher-quality": "gopherQuality",
  c4: "c4",
  fineweb: "fineweb",
  minhash: "minhash",
  pii: "pii",
};

/** A short hash of everything that changes outputs (not the number of workers). */
export function configHash(cfg: DataConfig): string {
  return createHash("sha256").update(JSON.stringify(cfg)).digest("hex").slice(0, 16);
}
