/**
 * The index on disk, `runs/<run>/index/`: `minisearch.json` (minisearch's own serialisation),
 * `passages.jsonl` (one passage per line, in id order) and `meta.json` (counts, sources, build
 * time, config hash, and the sizes of the other two files). Each file is written atomically and
 * `meta.json` last, so a folder with a `meta.json` whose sizes match is a complete index; a
 * build killed half-way leaves the previous index or none, never a mix that loads.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import MiniSearch from "minisearch";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import type { RunDir } from "../util/run-dir.js";
import type { Passage } from "./passages.js";
import {
  type IndexMeta,
  miniSearchOptions,
  SEARCH_INDEX_VERSION,
  SearchIndex,
} from "./search-index.js";

export const INDEX_DIR = "index";
export const INDEX_FILES = {
  mini: "minisearch.json",
  passages: "passages.jsonl",
  meta: "meta.json",
} as const;

/** The index folder of a run. */
export function runIndexDir(run: RunDir): string {
  return run.path(INDEX_DIR);
}

/** Writes the index files (meta.json last, with the others' sizes filled in). */
export async function saveSearchIndex(
  dir: string,
  mini: MiniSearch<Passage>,
  passages: readonly Passage[],
  meta: Omit<IndexMeta, "files">,
): Promise<IndexMeta> {
  const miniText = JSON.stringify(mini);
  const passText = passages.map((p) => `${JSON.stringify(p)}\n`).join("");
  await writeFileAtomic(join(dir, INDEX_FILES.mini), miniText);
  await writeFileAtomic(join(dir, INDEX_FILES.passages), passText);
  const full: IndexMeta = {
    ...meta,
    files: {
      [INDEX_FILES.mini]: Buffer.byteLength(miniText),
      [INDEX_FILES.passages]: Buffer.byteLength(passText),
    },
  };
  await writeJsonAtomic(join(dir, INDEX_FILES.meta), full);
  return full;
}

function corrupt(path: string, why: string, run: string): UserError {
  return new UserError(
    `the search index is corrupt: ${path} ${why}`,
    `rebuild it with \`chatforge index build --run ${run}\``,
  );
}

/**
 * Loads an index folder. `run` names the run in messages: no `meta.json` is "no search index
 * for run R"; an unreadable, truncated or mismatched file is "corrupt" and names the file.
 */
export function loadSearchIndex(dir: string, run: string): SearchIndex {
  const metaPath = join(dir, INDEX_FILES.meta);
  let metaText: string;
  try {
    metaText = readFileSync(metaPath, "utf8");
  } catch {
    throw new UserError(
      `no search index for run ${run} (no ${metaPath})`,
      `build it with \`chatforge index build --run ${run}\``,
    );
  }
  let meta: IndexMeta;
  try {
    meta = JSON.parse(metaText) as IndexMeta;
  } catch {
    throw corrupt(metaPath, "is not valid JSON", run);
  }
  if (!meta || typeof meta !== "object" || !meta.files || !meta.config || !meta.counts)
    throw corrupt(metaPath, "is not an index meta file", run);
  if (meta.version !== SEARCH_INDEX_VERSION)
    throw new UserError(
      `the search index of run ${run} has version ${meta.version}, this chatforge reads ${SEARCH_INDEX_VERSION}`,
      `rebuild it with \`chatforge index build --run ${run}\``,
    );
  const read = (name: string): string => {
    const p = join(dir, name);
    let size: number;
    try {
      size = statSync(p).size;
    } catch {
      throw corrupt(p, "is missing", run);
    }
    if (size !== meta.files[name])
      throw corrupt(p, `has ${size} bytes, meta.json says ${meta.files[name]}`, run);
    return readFileSync(p, "utf8");
  };
  const passPath = join(dir, INDEX_FILES.passages);
  const passages: Passage[] = [];
  const lines = read(INDEX_FILES.passages).split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === "") continue;
    let p: Passage;
    try {
      p = JSON.parse(lines[i]!) as Passage;
    } catch {
      throw corrupt(passPath, `line ${i + 1} is not valid JSON`, run);
    }
    if (p.id !== passages.length || typeof p.text !== "string")
      throw corrupt(passPath, `line ${i + 1} is not passage ${passages.length}`, run);
    passages.push(p);
  }
  const miniPath = join(dir, INDEX_FILES.mini);
  const miniText = read(INDEX_FILES.mini);
  let mini: MiniSearch<Passage>;
  try {
    mini = MiniSearch.loadJSON<Passage>(miniText, miniSearchOptions(meta.config));
  } catch (e) {
    throw corrupt(miniPath, `cannot be read (${(e as Error).message})`, run);
  }
  if (mini.documentCount !== passages.length)
    throw corrupt(
      miniPath,
      `holds ${mini.documentCount} passages, passages.jsonl ${passages.length}`,
      run,
    );
  return new SearchIndex(mini, passages, meta);
}

/** The index of a run (`runs/<run>/index/`). */
export function loadRunIndex(run: RunDir): SearchIndex {
  return loadSearchIndex(runIndexDir(run), run.name);
}
