/**
 * The BM25 index over passages, on `minisearch` (7.2; BM25+ with per-field boosts, an inverted
 * index in a radix tree, JSON serialisation), a maintained and widely used library, rather than
 * code of our own to test and keep. Measured on a speedrun-sized index (42,551 passages, 3.2M
 * words, 7,633 fact queries, one core): minisearch builds in about 6 s, answers 170–220
 * queries/s (0.7–5 ms each, growing with the passages that share any query term: "born" is in
 * thousands) with recall@1 99.6%; a 60-line BM25 of our own over the same terms and boosts
 * (plain postings arrays, a score array reset per query; not kept) built in 2 s and answered
 * 1,130 queries/s with recall@1 99.9%. A tool call costs less than a decoding step either way,
 * so the library stays; if search speed ever matters (RL rollouts with many calls), an own
 * scorer is a one-file change behind `PassageSearch`. What is ours is the term processing
 * (below) and the passages.
 *
 * Terms: minisearch's split on spaces and punctuation, then lower case, accents dropped
 * ("Brasília" matches "brasilia"), and English function words dropped ("what is the capital of"
 * leaves "capital"), at indexing and at query time alike. Fields: the passage's title
 * (boosted, so the encyclopedia entry titled "Chad" wins over a page that mentions Chad in
 * passing) and its text. Results are ordered by score, ties by passage id: deterministic.
 */
import { createHash } from "node:crypto";
import MiniSearch, { type Options } from "minisearch";
import { DEFAULT_PASSAGE_CONFIG, type Passage, type PassageConfig } from "./passages.js";

/** Bumped when passages, terms or the file layout change (part of the config hash). */
export const SEARCH_INDEX_VERSION = 1;

export interface SearchConfig extends PassageConfig {
  /** Title matches count this many times a text match. */
  titleBoost: number;
  /** BM25+ parameters (minisearch's defaults: k 1.2, b 0.7, d 0.5). */
  bm25: { k: number; b: number; d: number };
}

export const DEFAULT_SEARCH_CONFIG: SearchConfig = {
  ...DEFAULT_PASSAGE_CONFIG,
  titleBoost: 2,
  bm25: { k: 1.2, b: 0.7, d: 0.5 },
};

/** A short hash of what decides the index's content (version and config). */
export function searchConfigHash(cfg: SearchConfig): string {
  const text = JSON.stringify({ v: SEARCH_INDEX_VERSION, ...cfg });
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

const STOPWORDS = new Set(
  (
    "a an and are as at be been but by can could did do does for from had has have how if in " +
    "into is it its me my of on or our s so than that the their them then there these they this " +
    "to up us was we were what when where which who whom whose why will with would you your " +
    "please tell look search find give about"
  ).split(" "),
);

/** A term as indexed and queried: lower case, accents dropped, function words dropped. */
export function processTerm(term: string): string | null {
  const t = term
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
  if (t === "" || STOPWORDS.has(t)) return null;
  return t;
}

/** The terms a query is searched with (empty: nothing to search for). */
export function queryTerms(query: string): string[] {
  const tokenize = MiniSearch.getDefault("tokenize") as (s: string) => string[];
  return tokenize(query)
    .map(processTerm)
    .filter((t): t is string => t !== null);
}

export function miniSearchOptions(cfg: SearchConfig): Options<Passage> {
  return {
    idField: "id",
    fields: ["title", "text"],
    storeFields: [],
    processTerm,
    searchOptions: { boost: { title: cfg.titleBoost }, bm25: cfg.bm25, combineWith: "OR" },
  };
}

export interface SearchHit {
  passage: Passage;
  score: number;
}

/** What the search tool needs of an index. */
export interface PassageSearch {
  search(query: string, k?: number): SearchHit[];
}

export interface IndexMeta {
  version: number;
  configHash: string;
  config: SearchConfig;
  /** ISO time the build finished, and how long it took. */
  builtAt: string;
  seconds: number;
  counts: {
    /** Clean documents read and those that gave passages. */
    docs: number;
    passages: number;
    corpusPassages: number;
    referencePassages: number;
    /** Distinct indexed terms. */
    terms: number;
    /** Words in all passages. */
    words: number;
  };
  sources: {
    /** The clean files read (names relative to the data folder) with their sizes. */
    clean: { file: string; bytes: number; docs: number }[];
    /** The knowledge base the reference passages come from. */
    knowledge: { entities: number; sources: string[] };
  };
  /** The index's files and their sizes (checked when loading). */
  files: Record<string, number>;
}

export class SearchIndex implements PassageSearch {
  readonly #byEntity = new Map<string, Passage>();

  constructor(
    readonly mini: MiniSearch<Passage>,
    readonly passages: readonly Passage[],
    readonly meta: IndexMeta,
  ) {
    for (const p of passages) if (p.entity) this.#byEntity.set(p.entity, p);
  }

  /** The top `k` passages for a query (fewer when fewer match; none for an empty query). */
  search(query: string, k = 3): SearchHit[] {
    if (queryTerms(query).length === 0) return [];
    const results = this.mini.search(query);
    results.sort((a, b) => b.score - a.score || (a.id as number) - (b.id as number));
    return results
      .slice(0, k)
      .map((r) => ({ passage: this.passages[r.id as number]!, score: r.score }));
  }

  /** The reference passage of an entity, if the index has one. */
  referenceOf(entityKey: string): Passage | undefined {
    return this.#byEntity.get(entityKey);
  }
}
