/**
 * The pipeline's work, in four phases that the executor runs (locally or on Slurm):
 *
 *   filter   (task i of N)  read input files i, i+N, … → URL filter → extract → language →
 *                           Gopher repetition → Gopher quality → C4 → FineWeb → MinHash
 *                           signature; writes work/filtered/task-i.jsonl + work/sigs/task-i.json
 *   dedup    (one, global)  clusters all signatures; writes work/dedup.json (who duplicates whom)
 *   finalize (task i of N)  drops duplicates, scrubs PII, writes clean-i.jsonl.gz
 *   report   (one)          merges stats into funnel.json / funnel.svg, and removed/<stage>.jsonl.gz
 *
 * Every output is written atomically and each task ends by writing its marker
 * (markers/<phase>-i.done holding the config hash), so a rerun skips finished work and a killed
 * run resumes to byte-identical outputs: every output depends only on the config and inputs.
 */
import { existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { c4Filter } from "./c4.js";
import { configHash, type DataConfig, STAGES } from "./config.js";
import { extract, loadReadability } from "./extract.js";
import { fineWebQuality } from "./fineweb-quality.js";
import { emptyStats, funnelSvg, funnelTable, mergeStats, type StageStats } from "./funnel.js";
import { gopherQuality } from "./gopher-quality.js";
import { gopherRepetition } from "./gopher-repetition.js";
import { detectLanguage, languageVerdict, loadDetector } from "./lang.js";
import { bandKeys, clusterByBands, minhashSignature } from "./minhash.js";
import { scrubPii } from "./pii.js";
import { splitWords } from "./text-stats.js";
import { UrlFilter } from "./url-filter.js";
import { readInput } from "./warc.js";

export type Phase = "filter" | "dedup" | "finalize" | "report";

/** A document as it leaves the filter phase (and, with PII scrubbed, the pipeline). */
export interface CleanDoc {
  id: string;
  url: string;
  source: string;
  language: string;
  language_score: number;
  text: string;
}

/** A line of removed/<stage>.jsonl.gz. */
export interface RemovedDoc {
  id: string;
  url: string;
  stage: string;
  reason: string;
  bytes: number;
  /** The start of the text the stage saw, to judge the decision. */
  preview: string;
}

const pad = (i: number) => String(i).padStart(5, "0");

/** The paths of a run's outputs. */
export function layout(outDir: string) {
  return {
    config: join(outDir, "work", "config.json"),
    filtered: (t: number) => join(outDir, "work", "filtered", `task-${pad(t)}.jsonl`),
    sigs: (t: number) => join(outDir, "work", "sigs", `task-${pad(t)}.json`),
    stats: (phase: string, t: number) => join(outDir, "work", "stats", `${phase}-${pad(t)}.json`),
    removedPart: (stage: string, phase: string, t: number) =>
      join(outDir, "work", "removed", stage, `${phase}-${pad(t)}.jsonl.gz`),
    dedup: join(outDir, "work", "dedup.json"),
    clean: (t: number) => join(outDir, `clean-${pad(t)}.jsonl.gz`),
    marker: (phase: string, t?: number) =>
      join(outDir, "markers", t === undefined ? `${phase}.done` : `${phase}-${pad(t)}.done`),
    funnelJson: join(outDir, "funnel.json"),
    funnelSvg: join(outDir, "funnel.svg"),
    removed: (stage: string) => join(outDir, "removed", `${stage}.jsonl.gz`),
  };
}

/** True if the marker exists and was written under the same configuration. */
export function isDone(cfg: DataConfig, phase: Phase, task?: number): boolean {
  const p = layout(cfg.outDir).marker(phase, task);
  if (!existsSync(p)) return false;
  try {
    return JSON.parse(readFileSync(p, "utf8")).config === configHash(cfg);
  } catch {
    return false;
  }
}

async function markDone(cfg: DataConfig, phase: Phase, task?: number): Promise<void> {
  await writeJsonAtomic(layout(cfg.outDir).marker(phase, task), {
    config: configHash(cfg),
    phase,
    task,
  });
}

/** Reads the configuration a launcher saved for its tasks. */
export function loadConfig(outDir: string): DataConfig {
  return JSON.parse(readFileSync(layout(outDir).config, "utf8")) as DataConfig;
}

function jsonl(rows: unknown[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join("");
}

/** Gzipped JSONL; `level` 1 for side outputs (fast), zlib's default 6 for the clean text. */
function gzJsonl(rows: unknown[], level = 6): Buffer {
  return gzipSync(jsonl(rows), { level });
}

/** Reads a JSONL.gz file into objects. */
export function readJsonlGz<T>(path: string): T[] {
  const buf = readFileSync(path);
  const text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString("utf8");
  const out: T[] = [];
  for (const line of text.split("\n")) if (line) out.push(JSON.parse(line) as T);
  return out;
}

const PREVIEW = 300;

/** Collects stats and removed documents of one task. */
class TaskLog {
  readonly stats = new Map<string, StageStats>();
  readonly removed = new Map<string, RemovedDoc[]>();
  constructor(readonly keepRemoved: boolean) {}

  stage(name: string): StageStats {
    let s = this.stats.get(name);
    if (!s) {
      s = emptyStats(name);
      this.stats.set(name, s);
    }
    return s;
  }

  drop(stage: string, id: string, url: string, reason: string, bytes: number, text: string): void {
    const s = this.stage(stage);
    s.reasons[reason] = (s.reasons[reason] ?? 0) + 1;
    if (!this.keepRemoved) return;
    let list = this.removed.get(stage);
    if (!list) {
      list = [];
      this.removed.set(stage, list);
    }
    list.push({ id, url, stage, reason, bytes, preview: text.slice(0, PREVIEW) });
  }

  async write(cfg: DataConfig, phase: Phase, task: number): Promise<void> {
    const L = layout(cfg.outDir);
    const stages = [...this.stats.values()];
    await writeJsonAtomic(L.stats(phase, task), stages);
    for (const [stage, rows] of this.removed)
      await writeFileAtomic(L.removedPart(stage, phase, task), gzJsonl(rows, 1));
  }
}

const byteLen = (s: string) => Buffer.byteLength(s, "utf8");

/** Phase 1 for task `task`: read, filter, sign. */
export async function runFilterTask(cfg: DataConfig, task: number): Promise<void> {
  const log = new TaskLog(cfg.writeRemoved);
  const urlFilter = cfg.url.enabled ? new UrlFilter(cfg.url) : null;
  if (cfg.lang.enabled) await loadDetector(cfg.lang.detector);
  if (cfg.extract.enabled && cfg.extract.extractor === "readability") await loadReadability();
  const kept: CleanDoc[] = [];
  const sigIds: string[] = [];
  const sigBytes: number[] = [];
  const keys: Uint32Array[] = [];
  const time = (stage: string, t0: number) => {
    log.stage(stage).seconds += (performance.now() - t0) / 1000;
  };
  for (let f = task; f < cfg.inputs.length; f += cfg.tasks) {
    let t0 = performance.now();
    const read = readInput(cfg.inputs[f] as string, cfg.read);
    const rs = log.stage("read");
    rs.docsIn += read.docs.length + read.skipped.length;
    rs.bytesIn += read.bytes;
    for (const s of read.skipped) log.drop("read", s.id, s.url, s.reason, s.bytes, "");
    for (const d of read.docs) {
      rs.docsOut++;
      rs.bytesOut += d.bytes;
    }
    time("read", t0);
    for (const d of read.docs) {
      // URL
      if (urlFilter) {
        t0 = performance.now();
        const s = log.stage("url");
        s.docsIn++;
        s.bytesIn += d.bytes;
        const reason = urlFilter.check(d.url);
        time("url", t0);
        if (reason) {
          log.drop("url", d.id, d.url, reason, d.bytes, d.content);
          continue;
        }
        s.docsOut++;
        s.bytesOut += d.bytes;
      }
      // extract
      let text = d.content;
      if (d.kind === "html" && cfg.extract.enabled) {
        t0 = performance.now();
        const s = log.stage("extract");
        s.docsIn++;
        s.bytesIn += d.bytes;
        const r = extract(d.content, cfg.extract);
        time("extract", t0);
        if ("reason" in r) {
          log.drop("extract", d.id, d.url, r.reason, d.bytes, d.content);
          continue;
        }
        text = r.text;
        s.docsOut++;
        s.bytesOut += byteLen(text);
      } else {
        text = text.replace(/\r\n?/g, "\n");
      }
      let bytes = byteLen(text);
      // language
      let language = "";
      let score = 0;
      if (cfg.lang.enabled) {
        t0 = performance.now();
        const s = log.stage("lang");
        s.docsIn++;
        s.bytesIn += bytes;
        const r = detectLanguage(text, cfg.lang.detector, cfg.lang.sampleChars);
        language = r.language;
        score = Math.round(r.score * 1e4) / 1e4;
        const reason = languageVerdict(r, cfg.lang);
        time("lang", t0);
        if (reason) {
          log.drop("lang", d.id, d.url, reason, bytes, text);
          continue;
        }
        s.docsOut++;
        s.bytesOut += bytes;
      }
      // quality filters that keep or drop the text as is
      const words = splitWords(text); // shared by the two Gopher filters
      const simple: [string, boolean, (t: string) => string | null][] = [
        [
          "gopher-repetition",
          cfg.gopherRepetition.enabled,
          (t) => gopherRepetition(t, cfg.gopherRepetition, words),
        ],
        [
          "gopher-quality",
          cfg.gopherQuality.enabled,
          (t) => gopherQuality(t, cfg.gopherQuality, words),
        ],
      ];
      let dropped = false;
      for (const [name, on, fn] of simple) {
        if (!on) continue;
        t0 = performance.now();
        const s = log.stage(name);
        s.docsIn++;
        s.bytesIn += bytes;
        const reason = fn(text);
        time(name, t0);
        if (reason) {
          log.drop(name, d.id, d.url, reason, bytes, text);
          dropped = true;
          break;
        }
        s.docsOut++;
        s.bytesOut += bytes;
      }
      if (dropped) continue;
      // C4 removes lines, then may drop the document
      if (cfg.c4.enabled) {
        t0 = performance.now();
        const s = log.stage("c4");
        s.docsIn++;
        s.bytesIn += bytes;
        const r = c4Filter(text, cfg.c4);
        time("c4", t0);
        if ("reason" in r) {
          log.drop("c4", d.id, d.url, r.reason, bytes, text);
          continue;
        }
        s.counters["lines-removed"] = (s.counters["lines-removed"] ?? 0) + r.linesRemoved;
        text = r.text;
        bytes = byteLen(text);
        s.docsOut++;
        s.bytesOut += bytes;
      }
      if (cfg.fineweb.enabled) {
        t0 = performance.now();
        const s = log.stage("fineweb");
        s.docsIn++;
        s.bytesIn += bytes;
        const reason = fineWebQuality(text, cfg.fineweb);
        time("fineweb", t0);
        if (reason) {
          log.drop("fineweb", d.id, d.url, reason, bytes, text);
          continue;
        }
        s.docsOut++;
        s.bytesOut += bytes;
      }
      if (cfg.minhash.enabled) {
        t0 = performance.now();
        keys.push(bandKeys(minhashSignature(text, cfg.minhash), cfg.minhash));
        sigIds.push(d.id);
        sigBytes.push(bytes);
        time("minhash", t0);
      }
      kept.push({ id: d.id, url: d.url, source: d.source, language, language_score: score, text });
    }
  }
  const L = layout(cfg.outDir);
  await writeFileAtomic(L.filtered(task), jsonl(kept));
  if (cfg.minhash.enabled) {
    const flat = new Uint32Array(keys.length * cfg.minhash.bands * 2);
    keys.forEach((k, i) => {
      flat.set(k, i * k.length);
    });
    await writeJsonAtomic(L.sigs(task), {
      ids: sigIds,
      bytes: sigBytes,
      keys: Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength).toString("base64"),
    });
  }
  await log.write(cfg, "filter", task);
  await markDone(cfg, "filter", task);
}

/** For each task, the positions of its duplicate documents and the id of the kept copy. */
export type DedupResult = { tasks: { index: number; keptId: string }[][] };

/** Phase 2: clusters all tasks' signatures (all filter markers must exist). */
export async function runDedup(cfg: DataConfig): Promise<void> {
  const L = layout(cfg.outDir);
  const t0 = performance.now();
  const stats = emptyStats("minhash");
  const result: DedupResult = { tasks: [] };
  if (cfg.minhash.enabled) {
    const ids: string[] = [];
    const bytes: number[] = [];
    const taskOf: number[] = [];
    const posOf: number[] = [];
    const parts: Uint32Array[] = [];
    for (let t = 0; t < cfg.tasks; t++) {
      const s = JSON.parse(readFileSync(L.sigs(t), "utf8")) as {
        ids: string[];
        bytes: number[];
        keys: string;
      };
      const buf = Buffer.from(s.keys, "base64");
      parts.push(
        new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)),
      );
      s.ids.forEach((id, i) => {
        ids.push(id);
        bytes.push(s.bytes[i] as number);
        taskOf.push(t);
        posOf.push(i);
      });
    }
    const all = new Uint32Array(ids.length * cfg.minhash.bands * 2);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    const rep = clusterByBands(all, ids.length, cfg.minhash.bands);
    for (let t = 0; t < cfg.tasks; t++) result.tasks.push([]);
    for (let d = 0; d < ids.length; d++) {
      stats.docsIn++;
      stats.bytesIn += bytes[d] as number;
      if (rep[d] === d) {
        stats.docsOut++;
        stats.bytesOut += bytes[d] as number;
      } else {
        result.tasks[taskOf[d] as number]?.push({
          index: posOf[d] as number,
          keptId: ids[rep[d] as number] as string,
        });
      }
    }
    stats.reasons = {};
    const dups = stats.docsIn - stats.docsOut;
    if (dups > 0) stats.reasons["near-duplicate"] = dups;
  }
  stats.seconds = (performance.now() - t0) / 1000;
  await writeJsonAtomic(L.dedup, result);
  await writeJsonAtomic(L.stats("dedup", 0), [stats]);
  await markDone(cfg, "dedup");
}

/** Phase 3 for task `task`: drop duplicates, scrub PII, write the clean shard. */
export async function runFinalizeTask(cfg: DataConfig, task: number): Promise<void> {
  const L = layout(cfg.outDir);
  const log = new TaskLog(cfg.writeRemoved);
  const docs = readJsonlGz<CleanDoc>(L.filtered(task));
  const dedup = JSON.parse(readFileSync(L.dedup, "utf8")) as DedupResult;
  const dupOf = new Map<number, string>();
  for (const e of dedup.tasks[task] ?? []) dupOf.set(e.index, e.keptId);
  const out: CleanDoc[] = [];
  const pii = log.stage("pii");
  const t0 = performance.now();
  docs.forEach((d, i) => {
    const kept = dupOf.get(i);
    if (kept !== undefined) {
      log.drop(
        "minhash",
        d.id,
        d.url,
        "near-duplicate",
        byteLen(d.text),
        `[duplicate of ${kept}] ${d.text}`,
      );
      return;
    }
    const bytes = byteLen(d.text);
    pii.docsIn++;
    pii.bytesIn += bytes;
    if (cfg.pii.enabled) {
      const r = scrubPii(d.text, cfg.pii);
      d.text = r.text;
      pii.counters.emails = (pii.counters.emails ?? 0) + r.emails;
      pii.counters.ips = (pii.counters.ips ?? 0) + r.ips;
    }
    pii.docsOut++;
    pii.bytesOut += byteLen(d.text);
    out.push(d);
  });
  pii.seconds = (performance.now() - t0) / 1000;
  // the minhash stage's numbers come from the dedup phase; keep only its removed list here
  log.stats.delete("minhash");
  await writeFileAtomic(L.clean(task), gzJsonl(out));
  await log.write(cfg, "finalize", task);
  await markDone(cfg, "finalize", task);
}

export interface Funnel {
  config: string;
  inputs: number;
  tasks: number;
  stages: StageStats[];
}

/** Phase 4: funnel.json, funnel.svg and removed/<stage>.jsonl.gz. Returns the funnel. */
export async function runReport(cfg: DataConfig): Promise<Funnel> {
  const L = layout(cfg.outDir);
  const parts: StageStats[][] = [];
  for (let t = 0; t < cfg.tasks; t++) {
    parts.push(JSON.parse(readFileSync(L.stats("filter", t), "utf8")) as StageStats[]);
    parts.push(JSON.parse(readFileSync(L.stats("finalize", t), "utf8")) as StageStats[]);
  }
  parts.push(JSON.parse(readFileSync(L.stats("dedup", 0), "utf8")) as StageStats[]);
  const stages = mergeStats(parts);
  const funnel: Funnel = {
    config: configHash(cfg),
    inputs: cfg.inputs.length,
    tasks: cfg.tasks,
    stages,
  };
  await writeJsonAtomic(L.funnelJson, funnel);
  await writeFileAtomic(L.funnelSvg, funnelSvg(stages));
  // removed/<stage>.jsonl.gz: the tasks' gzip members concatenated in task order (valid gzip)
  for (const stage of STAGES) {
    const chunks: Buffer[] = [];
    for (const phase of ["filter", "finalize"]) {
      for (let t = 0; t < cfg.tasks; t++) {
        const p = L.removedPart(stage, phase, t);
        if (existsSync(p)) chunks.push(readFileSync(p));
      }
    }
    if (chunks.length > 0) await writeFileAtomic(L.removed(stage), Buffer.concat(chunks));
    else await rm(L.removed(stage), { force: true });
  }
  await markDone(cfg, "report");
  return funnel;
}

/** Prints the funnel of a finished run. */
export function formatFunnel(f: Funnel): string {
  return funnelTable(f.stages);
}
