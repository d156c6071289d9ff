/**
 * `chatforge index build`: the run's clean documents (`data/clean-NNNNN.jsonl.gz`) and the
 * knowledge base's reference passages become a BM25 index in `runs/<run>/index/`.
 *
 * Documents are read in file order, then line order, and cut into passages (passages.ts);
 * passage ids follow that order, then the reference passages in the knowledge base's order, so
 * the same inputs give the same index. The passages are added to minisearch in batches, with
 * progress (documents, rate, ETA) on stderr.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import MiniSearch from "minisearch";
import type { CleanDoc } from "../data/pipeline.js";
import { readJsonlGz } from "../data/pipeline.js";
import { loadKnowledge } from "../knowledge/load.js";
import type { KnowledgeBase } from "../knowledge/types.js";
import { UserError } from "../util/errors.js";
import { Progress } from "../util/progress.js";
import { type Passage, passageTexts, splitTitle, wordCount } from "./passages.js";
import { referencePassages } from "./reference.js";
import {
  DEFAULT_SEARCH_CONFIG,
  type IndexMeta,
  miniSearchOptions,
  SEARCH_INDEX_VERSION,
  type SearchConfig,
  SearchIndex,
  searchConfigHash,
} from "./search-index.js";
import { saveSearchIndex } from "./store.js";

export interface BuildIndexOptions {
  /** The folder with clean-*.jsonl.gz (`runs/<run>/data`). */
  dataDir: string;
  /** Where the index goes (`runs/<run>/index`). */
  outDir: string;
  /** The run's name, for messages. */
  run: string;
  /** The knowledge base of the reference passages (default: `loadKnowledge()`, as the tasks use). */
  kb?: KnowledgeBase;
  config?: Partial<SearchConfig>;
  quiet?: boolean;
}

const BATCH = 2000;

/** The clean files of a data folder, sorted. */
export function cleanFiles(dataDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    names = [];
  }
  return names.filter((n) => /^clean-\d+\.jsonl\.gz$/.test(n)).sort();
}

/** Builds, saves and returns the index. */
export async function buildSearchIndex(o: BuildIndexOptions): Promise<SearchIndex> {
  const t0 = performance.now();
  const config: SearchConfig = { ...DEFAULT_SEARCH_CONFIG, ...o.config };
  if (!(config.minWords >= 1 && config.maxWords >= config.minWords))
    throw new UserError(
      `passage sizes must satisfy 1 ≤ min ≤ max words, got ${config.minWords}–${config.maxWords}`,
    );
  const files = cleanFiles(o.dataDir);
  if (files.length === 0)
    throw new UserError(
      `no clean-*.jsonl.gz files in ${o.dataDir}`,
      `run \`chatforge data run --run ${o.run}\` first`,
    );
  const kb = o.kb ?? loadKnowledge();
  const docsByFile: CleanDoc[][] = [];
  const clean: IndexMeta["sources"]["clean"] = [];
  for (const f of files) {
    const path = join(o.dataDir, f);
    let docs: CleanDoc[];
    try {
      docs = readJsonlGz<CleanDoc>(path);
    } catch (e) {
      throw new UserError(
        `cannot read ${path}: ${(e as Error).message}`,
        `rerun \`chatforge data run --run ${o.run}\``,
      );
    }
    docsByFile.push(docs);
    clean.push({ file: f, bytes: statSync(path).size, docs: docs.length });
  }
  const totalDocs = clean.reduce((a, c) => a + c.docs, 0);
  const mini = new MiniSearch<Passage>(miniSearchOptions(config));
  const passages: Passage[] = [];
  const progress = new Progress("index", {
    total: totalDocs + kb.entities.length,
    unit: "docs",
    quiet: o.quiet,
  });
  let batch: Passage[] = [];
  let words = 0;
  let usedDocs = 0;
  const add = (p: Passage) => {
    passages.push(p);
    batch.push(p);
    words += wordCount(p.text);
    if (batch.length >= BATCH) {
      mini.addAll(batch);
      batch = [];
    }
  };
  for (const docs of docsByFile) {
    for (const d of docs) {
      const { title, body } = splitTitle(d.text, d.url);
      const texts = passageTexts(body, config);
      if (texts.length) usedDocs++;
      for (const text of texts)
        add({ id: passages.length, doc: d.id, url: d.url, title, text, source: "corpus" });
      progress.tick(1, `${passages.length} passages`);
    }
  }
  const corpusPassages = passages.length;
  for (const p of referencePassages(kb, passages.length)) add(p);
  if (batch.length) mini.addAll(batch);
  progress.tick(kb.entities.length, `${passages.length} passages`);
  progress.finish();
  const seconds = (performance.now() - t0) / 1000;
  const meta = await saveSearchIndex(o.outDir, mini, passages, {
    version: SEARCH_INDEX_VERSION,
    configHash: searchConfigHash(config),
    config,
    builtAt: new Date().toISOString(),
    seconds,
    counts: {
      docs: usedDocs,
      passages: passages.length,
      corpusPassages,
      referencePassages: passages.length - corpusPassages,
      terms: mini.termCount,
      words,
    },
    sources: {
      clean,
      knowledge: { entities: kb.entities.length, sources: kb.sources.map((s) => s.name) },
    },
  });
  return new SearchIndex(mini, passages, meta);
}
