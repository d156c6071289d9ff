/**
 * `chatforge data tokenize`: clean text → token shards in llm.c's format. Every document is
 * preceded by `<|endoftext|>`; document g (in file order, then line order) goes to the
 * validation split when g mod round(1/valFraction) = 0, so the split is deterministic and
 * never empty. Files are encoded in parallel on worker threads.
 *
 * The documents of each split are then written in a seeded random order (a Fisher–Yates
 * shuffle of the split's documents in file order, so the result is the same for any number of
 * workers): sources no longer arrive in blocks, and every stretch of training — the loader
 * reads contiguous windows — sees the whole mixture.
 *
 * When the corpus had knowledge pages (its `knowledge-pages.ndjson`, found through the data
 * run's inputs), it also writes `mentions.json`: for every entity the pages were written for,
 * the number of train documents that still state one of its facts after cleaning.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { KNOWLEDGE_PAGES_FILE, type KnowledgePageRecord } from "../corpus/sources/knowledge.js";
import type { MentionCounts } from "../knowledge/types.js";
import { Rng } from "../tensor/rng.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { Progress } from "../util/progress.js";
import { layout } from "./pipeline.js";
import { ShardWriter, tokenBytes } from "./shards.js";

export const MENTIONS_FILE = "mentions.json";

export interface TokenizeOptions {
  /** Folder with clean-*.jsonl.gz (the output of `data run`). */
  dataDir: string;
  /** Output folder for {train,val}_NNNNNN.bin. */
  outDir: string;
  /** A tokenizer folder saved by `chatforge tokenizer train`, or a packaged name (gpt2, cl100k_base, …). */
  tokenizer: string;
  /** Fraction of documents for validation (default 0.01). */
  valFraction: number;
  /** Tokens per shard (llm.c: 100M; default 10M). */
  shardTokens: number;
  workers?: number;
  quiet?: boolean;
  /** Seed of the document order within each split (default 1). */
  seed?: number;
  /** Shuffle documents (default true); false keeps file order. */
  shuffle?: boolean;
  /**
   * The corpus's knowledge-pages.ndjson: by default looked up beside the data run's inputs
   * (`<data>/work/config.json`), then in `<data>/../corpus/`; null: do not count mentions.
   */
  knowledgePages?: string | null;
}

export interface TokenizeSummary {
  tokenizer: string;
  vocabSize: number;
  eot: number;
  tokenBytes: number;
  train: { docs: number; tokens: number; shards: string[] };
  val: { docs: number; tokens: number; shards: string[] };
  /** The seed of the document order, or null when documents kept file order. */
  shuffleSeed: number | null;
  /** With knowledge pages: where the counts went and their totals. */
  mentions?: { file: string; entities: number; pages: MentionCounts["pages"] };
  seconds: number;
}

/** What a worker sends back for one file: all tokens, and where each document ends. */
interface EncodedFile {
  tokens: Uint16Array | Uint32Array;
  docEnds: Uint32Array;
  /** Per document: the entities a knowledge page still states, or null. */
  mentions: (string[] | null)[];
  error?: string;
}

const WORKER_JS = join(dirname(fileURLToPath(import.meta.url)), "tokenize-worker.js");

/** Runs the encoding of `files` on a pool, resolving results in file order. */
function encodeFiles(
  files: string[],
  tokenizer: string,
  workers: number,
  pages: string | undefined,
): Promise<EncodedFile>[] {
  const results: { resolve: (r: EncodedFile) => void; reject: (e: Error) => void }[] = [];
  const promises = files.map(
    () =>
      new Promise<EncodedFile>((resolve, reject) => {
        results.push({ resolve, reject });
      }),
  );
  let next = 0;
  const n = Math.max(1, Math.min(workers, files.length));
  for (let w = 0; w < n; w++) {
    const worker = new Worker(WORKER_JS, { workerData: { tokenizer, pages } });
    let current = -1;
    const feed = () => {
      if (next >= files.length) {
        worker.terminate();
        return;
      }
      current = next++;
      worker.postMessage({ file: files[current] });
    };
    worker.on("message", (m: EncodedFile) => {
      const r = results[current];
      if (m.error) r?.reject(new Error(m.error));
      else r?.resolve(m);
      feed();
    });
    worker.on("error", (e) => results[current]?.reject(e));
    feed();
  }
  return promises;
}

export async function tokenizeData(o: TokenizeOptions): Promise<TokenizeSummary> {
  const t0 = performance.now();
  let names: string[];
  try {
    names = readdirSync(o.dataDir)
      .filter((n) => /^clean-\d+\.jsonl\.gz$/.test(n))
      .sort();
  } catch {
    names = [];
  }
  if (names.length === 0) {
    throw new UserError(
      `no clean-*.jsonl.gz files in ${o.dataDir}`,
      "run `chatforge data run` first",
    );
  }
  if (!(o.valFraction >= 0 && o.valFraction < 1))
    throw new UserError("--val-fraction must be in [0, 1)");
  const { openTokenizer } = await import("../tokenizer/index.js");
  const tok = await openTokenizer(o.tokenizer);
  const eot = tok.specialTokenId("<|endoftext|>");
  const vocab = tok.vocabSize;
  // remove shards of an earlier run (they may be more than this run writes)
  try {
    for (const n of readdirSync(o.outDir))
      if (/^(train|val)_\d{6}\.bin$/.test(n)) rmSync(join(o.outDir, n));
  } catch {
    // no folder yet
  }
  const train = new ShardWriter(o.outDir, "train", vocab, o.shardTokens);
  const val = new ShardWriter(o.outDir, "val", vocab, o.shardTokens);
  const every = o.valFraction > 0 ? Math.max(1, Math.round(1 / o.valFraction)) : 0;
  const files = names.map((n) => join(o.dataDir, n));
  const progress = o.quiet
    ? null
    : new Progress("data tokenize", { total: files.length, unit: "files" });
  const pagesFile =
    o.knowledgePages === null ? undefined : (o.knowledgePages ?? findKnowledgePages(o.dataDir));
  const records = pagesFile ? readKnowledgePages(pagesFile) : undefined;
  // every document, in file order, with its split
  const docs: {
    split: "train" | "val";
    tokens: Uint16Array | Uint32Array;
    stated: string[] | null;
  }[] = [];
  let g = 0;
  for (const p of encodeFiles(files, o.tokenizer, o.workers ?? availableParallelism(), pagesFile)) {
    const { tokens, docEnds, mentions } = await p;
    let start = 0;
    docEnds.forEach((end, i) => {
      const split = every > 0 && g % every === 0 ? "val" : "train";
      docs.push({ split, tokens: tokens.subarray(start, end), stated: mentions[i] ?? null });
      start = end;
      g++;
    });
    progress?.tick(1);
  }
  let trainDocs = 0;
  let valDocs = 0;
  const counts: Record<string, number> = {};
  const pages = { written: records?.length ?? 0, kept: 0, train: 0 };
  if (records) for (const r of records) for (const e of r.entities) counts[e.key] = 0;
  for (const split of ["train", "val"] as const) {
    const list = docs.filter((d) => d.split === split);
    if (o.shuffle !== false) shuffleInPlace(list, o.seed ?? 1, split);
    const writer = split === "train" ? train : val;
    for (const d of list) {
      await writer.add(d.tokens);
      if (d.stated) {
        pages.kept++;
        if (split === "train") {
          pages.train++;
          for (const k of d.stated) counts[k] = (counts[k] ?? 0) + 1;
        }
      }
    }
    if (split === "train") trainDocs = list.length;
    else valDocs = list.length;
  }
  progress?.finish();
  const summary: TokenizeSummary = {
    tokenizer: o.tokenizer,
    vocabSize: vocab,
    eot,
    tokenBytes: tokenBytes(vocab),
    train: { docs: trainDocs, tokens: 0, shards: await train.close() },
    val: { docs: valDocs, tokens: 0, shards: await val.close() },
    shuffleSeed: o.shuffle === false ? null : (o.seed ?? 1),
    seconds: (performance.now() - t0) / 1000,
  };
  summary.train.tokens = train.totalTokens;
  summary.val.tokens = val.totalTokens;
  const mentionsPath = join(o.outDir, MENTIONS_FILE);
  if (records) {
    const sorted: Record<string, number> = {};
    for (const k of Object.keys(counts).sort()) sorted[k] = counts[k]!;
    const m: MentionCounts = { counts: sorted, pages };
    await writeJsonAtomic(mentionsPath, m);
    summary.mentions = { file: mentionsPath, entities: Object.keys(sorted).length, pages };
  } else rmSync(mentionsPath, { force: true });
  await writeJsonAtomic(join(o.outDir, "meta.json"), summary);
  return summary;
}

/** A seeded Fisher–Yates shuffle (the split's name varies the stream). */
function shuffleInPlace<T>(a: T[], seed: number, split: string): void {
  const rng = new Rng((seed * 2654435761 + (split === "val" ? 1 : 0)) >>> 0);
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}

/** The knowledge-pages.ndjson of the corpus a data run read, if there is one. */
export function findKnowledgePages(dataDir: string): string | undefined {
  const dirs: string[] = [];
  try {
    const cfg = JSON.parse(readFileSync(layout(dataDir).config, "utf8")) as { inputs: string[] };
    for (const i of cfg.inputs) dirs.push(dirname(resolve(i)));
  } catch {
    // no saved config (clean text from elsewhere)
  }
  dirs.push(join(resolve(dataDir), "..", "corpus"));
  for (const d of new Set(dirs)) {
    const p = join(d, KNOWLEDGE_PAGES_FILE);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function readKnowledgePages(path: string): KnowledgePageRecord[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as KnowledgePageRecord);
}

/**
 * The per-entity mention counts `data tokenize` wrote (`<shards>/mentions.json`): how many
 * train documents state each entity's facts, 0 for entities whose pages did not survive.
 */
export function readMentionCounts(shardsDir: string): MentionCounts {
  const p = join(shardsDir, MENTIONS_FILE);
  let text: string;
  try {
    text = readFileSync(p, "utf8");
  } catch {
    throw new UserError(
      `no ${MENTIONS_FILE} in ${shardsDir}`,
      "build the corpus with the knowledge source, then run `chatforge data run` and `chatforge data tokenize`",
    );
  }
  const m = JSON.parse(text) as MentionCounts;
  if (!m || typeof m.counts !== "object" || !m.pages)
    throw new UserError(`${p} is not a mention-count file`, "rerun `chatforge data tokenize`");
  return m;
}
