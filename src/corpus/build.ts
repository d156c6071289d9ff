/**
 * `chatforge corpus build`: gathers documents from the configured sources and writes them as a
 * crawl-like corpus of gzipped WARC files, with a summary (documents, bytes, sources, content
 * types, skipped inputs and why). The build is all-or-nothing: outputs appear only when every
 * source has been read, and a rerun with the same configuration finds the corpus done.
 */
import { createHash } from "node:crypto";
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { cleanTempFiles, writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { formatBytes, Progress } from "../util/progress.js";
import type { RunLog } from "../util/run-log.js";
import type { CorpusDoc } from "./document.js";
import type { SourceContext } from "./sources/context.js";
import { htmlDirSource } from "./sources/html-dir.js";
import { jsonlSource } from "./sources/jsonl-input.js";
import {
  isKnowledgeDoc,
  KNOWLEDGE_PAGES_FILE,
  KNOWLEDGE_VERSION,
  type KnowledgePageRecord,
} from "./sources/knowledge.js";
import {
  PACKAGED_DATASETS,
  type PackagedDataset,
  packagedCount,
  packagedSource,
} from "./sources/packaged.js";
import { warcSource } from "./sources/warc-input.js";
import { ShardedWarcWriter, type WarcFileStats } from "./warc-writer.js";

export interface CorpusBuildOptions {
  /** Output folder, e.g. `runs/<name>/corpus`. */
  outDir: string;
  /** Packaged datasets to include (the embedded default corpus). */
  packaged: PackagedDataset[];
  htmlDirs: string[];
  warcs: string[];
  jsonls: string[];
  /** Number of output WARC files (about equal size). */
  files: number;
  /** At most this many documents per source (for quick runs). */
  limitPerSource?: number;
  /** Host name used in URLs of files from --html-dir. */
  host?: string;
  /** Rebuild even if a corpus with the same configuration exists. */
  force?: boolean;
  quiet?: boolean;
  log?: RunLog;
}

export interface CorpusSummary {
  version: 1;
  configHash: string;
  documents: number;
  /** HTTP payload bytes of all documents. */
  payloadBytes: number;
  /** Bytes of the .warc.gz files on disk. */
  warcBytes: number;
  sources: Record<string, { documents: number; payloadBytes: number }>;
  contentTypes: Record<string, number>;
  files: WarcFileStats[];
  /** With the knowledge source: its pages, the entities they mention and the sidecar's name. */
  knowledge?: { pages: number; entities: number; mentions: number; file: string };
  skipped: {
    total: number;
    reasons: Record<string, number>;
    examples: { reason: string; where: string }[];
  };
  seconds: number;
}

export const SUMMARY_FILE = "summary.json";
export const SKIPPED_FILE = "skipped.jsonl";

function configHash(o: CorpusBuildOptions): string {
  const key = {
    packaged: o.packaged,
    htmlDirs: o.htmlDirs,
    warcs: o.warcs,
    jsonls: o.jsonls,
    files: o.files,
    limit: o.limitPerSource ?? null,
    host: o.host ?? null,
    // pages rendered by our own code: a new version of the renderer is a new corpus
    ...(o.packaged.includes("knowledge") ? { knowledge: KNOWLEDGE_VERSION } : {}),
  };
  return createHash("sha256").update(JSON.stringify(key)).digest("hex").slice(0, 16);
}

/** The summary of an existing, complete corpus with this configuration, if there is one. */
async function existingCorpus(
  o: CorpusBuildOptions,
  hash: string,
): Promise<CorpusSummary | undefined> {
  try {
    const s = JSON.parse(await readFile(join(o.outDir, SUMMARY_FILE), "utf8")) as CorpusSummary;
    if (s.configHash !== hash) return undefined;
    for (const f of s.files) {
      if ((await stat(join(o.outDir, f.name))).size !== f.bytes) return undefined;
    }
    if (s.knowledge) await stat(join(o.outDir, s.knowledge.file));
    return s;
  } catch {
    return undefined;
  }
}

/** The media type without parameters, e.g. `text/html`. */
function mediaType(contentType: string): string {
  return contentType.split(";")[0]!.trim().toLowerCase() || "unknown";
}

export async function buildCorpus(
  o: CorpusBuildOptions,
): Promise<CorpusSummary & { reused: boolean }> {
  if (!Number.isInteger(o.files) || o.files < 1)
    throw new UserError(`--files must be a positive integer, got ${o.files}`);
  for (const p of o.packaged) {
    if (!PACKAGED_DATASETS.includes(p)) {
      throw new UserError(
        `unknown packaged dataset "${p}"`,
        `choose from: ${PACKAGED_DATASETS.join(", ")}`,
      );
    }
  }
  if (!o.packaged.length && !o.htmlDirs.length && !o.warcs.length && !o.jsonls.length) {
    throw new UserError("no sources selected", "pass --packaged, --html-dir, --warc or --jsonl");
  }
  const hash = configHash(o);
  const removed = await cleanTempFiles(o.outDir);
  if (removed) o.log?.write("cleaned", { tempFiles: removed });
  if (!o.force) {
    const prev = await existingCorpus(o, hash);
    if (prev) return { ...prev, reused: true };
  }

  const t0 = performance.now();
  const skips: { reason: string; where: string }[] = [];
  const ctx: SourceContext = { skip: (reason, where) => skips.push({ reason, where }) };
  const sources: { name: string; docs: () => AsyncGenerator<CorpusDoc> }[] = [
    ...o.packaged.map((p) => ({ name: p, docs: () => packagedSource(p) })),
    ...o.htmlDirs.map((d) => ({
      name: `html-dir ${d}`,
      docs: () => htmlDirSource(d, ctx, o.host),
    })),
    ...o.warcs.map((w) => ({ name: `warc ${w}`, docs: () => warcSource(w, ctx) })),
    ...o.jsonls.map((j) => ({ name: `jsonl ${j}`, docs: () => jsonlSource(j, ctx) })),
  ];

  const writer = await ShardedWarcWriter.open(o.outDir, o.files);
  const perSource: CorpusSummary["sources"] = {};
  const contentTypes: Record<string, number> = {};
  const knowledgePages: KnowledgePageRecord[] = [];
  let documents = 0;
  let payloadBytes = 0;
  // a known total (packaged datasets only) gives the progress bar an ETA
  let total: number | undefined;
  if (!o.htmlDirs.length && !o.warcs.length && !o.jsonls.length) {
    total = 0;
    for (const p of o.packaged)
      total += Math.min(await packagedCount(p), o.limitPerSource ?? Number.POSITIVE_INFINITY);
  }
  const progress = new Progress("corpus", { unit: "docs", quiet: o.quiet, total });
  try {
    for (const src of sources) {
      let n = 0;
      for await (const doc of src.docs()) {
        if (o.limitPerSource !== undefined && n >= o.limitPerSource) break;
        await writer.write(doc);
        if (isKnowledgeDoc(doc)) knowledgePages.push(doc.stated);
        n++;
        documents++;
        payloadBytes += doc.body.length;
        const s = (perSource[doc.source] ??= { documents: 0, payloadBytes: 0 });
        s.documents++;
        s.payloadBytes += doc.body.length;
        const mt = mediaType(doc.contentType);
        contentTypes[mt] = (contentTypes[mt] ?? 0) + 1;
        progress.tick(1, `${formatBytes(payloadBytes)} · ${src.name}`);
      }
    }
    if (documents === 0) {
      throw new UserError(
        "no documents were found in the selected sources",
        skips.length
          ? `${skips.length} inputs were skipped, e.g. ${skips[0]!.where}: ${skips[0]!.reason}`
          : undefined,
      );
    }
  } catch (err) {
    await writer.abort();
    throw err;
  }
  // the sidecar goes first: a corpus whose summary exists always has it
  const sidecar = join(o.outDir, KNOWLEDGE_PAGES_FILE);
  if (knowledgePages.length) {
    await writeFileAtomic(sidecar, knowledgePages.map((r) => `${JSON.stringify(r)}\n`).join(""));
  } else await rm(sidecar, { force: true });
  const files = await writer.commit();
  progress.finish();

  const reasons: Record<string, number> = {};
  for (const s of skips) reasons[s.reason] = (reasons[s.reason] ?? 0) + 1;
  const summary: CorpusSummary = {
    version: 1,
    configHash: hash,
    documents,
    payloadBytes,
    warcBytes: files.reduce((a, f) => a + f.bytes, 0),
    sources: perSource,
    contentTypes,
    files,
    ...(knowledgePages.length
      ? {
          knowledge: {
            pages: knowledgePages.length,
            entities: new Set(knowledgePages.flatMap((r) => r.entities.map((e) => e.key))).size,
            mentions: knowledgePages.reduce((a, r) => a + r.entities.length, 0),
            file: KNOWLEDGE_PAGES_FILE,
          },
        }
      : {}),
    skipped: { total: skips.length, reasons, examples: skips.slice(0, 20) },
    seconds: (performance.now() - t0) / 1000,
  };
  await writeFileAtomic(
    join(o.outDir, SKIPPED_FILE),
    skips.map((s) => `${JSON.stringify(s)}\n`).join(""),
  );
  await writeJsonAtomic(join(o.outDir, SUMMARY_FILE), summary);
  return { ...summary, reused: false };
}

/** The summary as the table the CLI prints. */
export function formatSummary(s: CorpusSummary, outDir: string): string {
  const lines: string[] = [];
  lines.push(
    `corpus: ${s.documents} documents, ${formatBytes(s.payloadBytes)} of payload, ${formatBytes(s.warcBytes)} in ${s.files.length} WARC files (${outDir})`,
  );
  lines.push("", "  source                         documents      payload");
  for (const [name, v] of Object.entries(s.sources)) {
    lines.push(
      `  ${name.padEnd(30).slice(0, 30)} ${String(v.documents).padStart(9)} ${formatBytes(v.payloadBytes).padStart(12)}`,
    );
  }
  lines.push("", "  content type                   documents");
  for (const [t, n] of Object.entries(s.contentTypes).sort((a, b) => b[1] - a[1])) {
    lines.push(`  ${t.padEnd(30)} ${String(n).padStart(9)}`);
  }
  lines.push("", "  file                           records        bytes");
  for (const f of s.files)
    lines.push(
      `  ${f.name.padEnd(30)} ${String(f.records).padStart(9)} ${formatBytes(f.bytes).padStart(12)}`,
    );
  if (s.skipped.total) {
    lines.push("", `  skipped inputs: ${s.skipped.total} (details in ${SKIPPED_FILE})`);
    for (const [r, n] of Object.entries(s.skipped.reasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)) {
      lines.push(`    ${String(n).padStart(6)}  ${r}`);
    }
  }
  return lines.join("\n");
}
