/**
 * `chatforge data tokenize`: clean text → token shards in llm.c's format. Every document is
 * preceded by `<|endoftext|>`; document g (in file order, then line order) goes to the
 * validation split when g mod round(1/valFraction) = 0, so the split is deterministic and
 * never empty. Files are encoded in parallel on worker threads; shards are written in order.
 */
import { readdirSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { writeJsonAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { Progress } from "../util/progress.js";
import { ShardWriter, tokenBytes } from "./shards.js";

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
}

export interface TokenizeSummary {
  tokenizer: string;
  vocabSize: number;
  eot: number;
  tokenBytes: number;
  train: { docs: number; tokens: number; shards: string[] };
  val: { docs: number; tokens: number; shards: string[] };
  seconds: number;
}

/** What a worker sends back for one file: all tokens, and where each document ends. */
interface EncodedFile {
  tokens: Uint32Array;
  docEnds: Uint32Array;
  error?: string;
}

const WORKER_JS = join(dirname(fileURLToPath(import.meta.url)), "tokenize-worker.js");

/** Runs the encoding of `files` on a pool, resolving results in file order. */
function encodeFiles(files: string[], tokenizer: string, workers: number): Promise<EncodedFile>[] {
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
    const worker = new Worker(WORKER_JS, { workerData: { tokenizer } });
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
  let g = 0;
  let trainDocs = 0;
  let valDocs = 0;
  for (const p of encodeFiles(files, o.tokenizer, o.workers ?? availableParallelism())) {
    const { tokens, docEnds } = await p;
    let start = 0;
    for (const end of docEnds) {
      const doc = tokens.subarray(start, end);
      start = end;
      if (every > 0 && g % every === 0) {
        await val.add(doc);
        valDocs++;
      } else {
        await train.add(doc);
        trainDocs++;
      }
      g++;
    }
    progress?.tick(1);
  }
  progress?.finish();
  const summary: TokenizeSummary = {
    tokenizer: o.tokenizer,
    vocabSize: vocab,
    eot,
    tokenBytes: tokenBytes(vocab),
    train: { docs: trainDocs, tokens: 0, shards: await train.close() },
    val: { docs: valDocs, tokens: 0, shards: await val.close() },
    seconds: (performance.now() - t0) / 1000,
  };
  summary.train.tokens = train.totalTokens;
  summary.val.tokens = val.totalTokens;
  await writeJsonAtomic(join(o.outDir, "meta.json"), summary);
  return summary;
}
