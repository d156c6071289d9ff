/**
 * `npm run bench:data`: throughput of the data pipeline on the default corpus
 * (runs/<run>/corpus, built with `chatforge corpus build` if missing), in MB of WARC payload
 * per CPU-second (= per core), the share of time per stage, and the two choices made by
 * measurement: the HTML extractor (ours vs Mozilla Readability: speed, precision, recall on
 * pages with known main text) and the language detector (eld vs franc: speed).
 *
 * Environment: CHATFORGE_BENCH_RUN (default "default"), CHATFORGE_BENCH_DOCS (extractor pages, 300).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defaultDataConfig } from "../data/config.js";
import { runLocal } from "../data/executor.js";
import { extractFast, extractReadability, loadReadability } from "../data/extract.js";
import { detectLanguage, loadDetector } from "../data/lang.js";
import { formatFunnel } from "../data/pipeline.js";
import { pageHtml, paragraphs, sotuSpeeches } from "../data/planted.js";
import { readInput } from "../data/warc.js";
import { RunDir } from "../util/run-dir.js";

const run = process.env.CHATFORGE_BENCH_RUN ?? "default";
const corpusDir = new RunDir(run).path("corpus");
if (!existsSync(corpusDir)) {
  console.log(`building the default corpus into ${corpusDir} …`);
  execFileSync(
    process.execPath,
    [resolve("bin/chatforge.js"), "corpus", "build", "--run", run, "--quiet"],
    { stdio: "inherit" },
  );
}
const inputs = execFileSync("ls", [corpusDir], { encoding: "utf8" })
  .split("\n")
  .filter((n) => /\.warc(\.gz)?$/.test(n))
  .map((n) => join(corpusDir, n));

const cpuSeconds = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;
const mb = (bytes: number) => bytes / 1e6;

console.log(
  `data pipeline benchmark — ${new Date().toISOString()} — ${cpus()[0]?.model} × ${cpus().length}`,
);
console.log(`corpus: ${inputs.length} files in ${corpusDir}\n`);

// 1. the whole pipeline, one thread (per-core throughput), all stages on
const tmp = mkdtempSync(join(tmpdir(), "cf-bench-data-"));
try {
  // load the detector first so its one-off load time (about 2 s) is not counted per MB
  await loadDetector("eld");
  const cfg = defaultDataConfig(inputs, join(tmp, "one"), inputs.length);
  cfg.writeRemoved = true;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const funnel = await runLocal(cfg, { workers: 0, quiet: true });
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(process.cpuUsage(c0));
  const payload = funnel.stages[0]?.bytesOut ?? 0;
  console.log(formatFunnel(funnel));
  const stageTotal = funnel.stages.reduce((a, s) => a + s.seconds, 0);
  console.log("\nshare of time per stage:");
  for (const s of funnel.stages) {
    console.log(
      `  ${s.stage.padEnd(18)} ${((100 * s.seconds) / stageTotal).toFixed(1).padStart(5)}%`,
    );
  }
  console.log(
    `\nwhole pipeline, 1 thread: ${mb(payload).toFixed(1)} MB payload in ${cpu.toFixed(1)} CPU s (${wall.toFixed(1)} s wall)` +
      ` = ${(mb(payload) / cpu).toFixed(2)} MB/s per core (target ≥ 5)`,
  );

  // 2. the local worker pool on all cores
  const cfg2 = defaultDataConfig(inputs, join(tmp, "pool"), inputs.length);
  const t1 = performance.now();
  await runLocal(cfg2, { quiet: true });
  const wall2 = (performance.now() - t1) / 1000;
  console.log(
    `worker pool, ${cpus().length} threads: ${wall2.toFixed(1)} s wall = ${(mb(payload) / wall2).toFixed(2)} MB/s ` +
      `(includes each worker loading eld's tables, ~2 s)`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// 3. extractors: speed on the corpus's HTML, precision/recall on pages with known text
const nPages = Number(process.env.CHATFORGE_BENCH_DOCS ?? 300);
const html = readInput(inputs[0] as string)
  .docs.filter((d) => d.kind === "html")
  .slice(0, nPages)
  .map((d) => d.content);
const htmlMB = mb(html.reduce((a, h) => a + Buffer.byteLength(h), 0));
await loadReadability();
const speed = (fn: (h: string) => string) => {
  const c = process.cpuUsage();
  for (const h of html) fn(h);
  return htmlMB / cpuSeconds(process.cpuUsage(c));
};
speed(extractFast); // warm-up
const fastSpeed = speed(extractFast);
const readSpeed = speed(extractReadability);

const speeches = sotuSpeeches();
let gold = 0;
const score = { fast: { tp: 0, out: 0 }, readability: { tp: 0, out: 0 } };
for (let i = 0; i < 60; i++) {
  const paras = paragraphs((speeches[100 + i] as { text: string }).text).slice(0, 8);
  const page = pageHtml(`Speech ${i}`, paras, { cookieBanner: i % 2 === 0 });
  const goldLines = new Set([`Speech ${i}`, ...paras]);
  gold += goldLines.size;
  for (const [name, fn] of [
    ["fast", extractFast],
    ["readability", extractReadability],
  ] as const) {
    const lines = fn(page)
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    score[name].out += lines.length;
    score[name].tp += lines.filter((l) => goldLines.has(l)).length;
  }
}
console.log(
  `\nHTML extraction (${html.length} corpus pages, ${htmlMB.toFixed(1)} MB; precision/recall in lines on 60 pages with known text):`,
);
for (const [name, sp] of [
  ["fast (ours)", fastSpeed],
  ["readability+linkedom", readSpeed],
] as const) {
  const s = name.startsWith("fast") ? score.fast : score.readability;
  console.log(
    `  ${name.padEnd(22)} ${sp.toFixed(1).padStart(6)} MB/s   precision ${((100 * s.tp) / Math.max(1, s.out)).toFixed(1)}%   recall ${((100 * s.tp) / gold).toFixed(1)}%`,
  );
}
console.log(`  ratio: ours is ${(fastSpeed / readSpeed).toFixed(1)}× faster than Readability`);

// the same on the corpus builder's own page template (State of the Union pages): a character
// of output counts as correct when its line occurs in the original speech text
const norm = (t: string) => t.replace(/\s+/g, " ").trim();
const speechByYear = new Map(
  speeches.map((sp) => [String((sp as { year: number }).year), norm(sp.text)]),
);
const sotuPages: [string, string][] = [];
for (const f of inputs) {
  for (const d of readInput(f).docs) {
    const year = /sotu[^/]*\/(\d{4})\//.exec(d.url)?.[1];
    const gold = year ? speechByYear.get(year) : undefined;
    if (gold) sotuPages.push([d.content, gold]);
  }
}
if (sotuPages.length > 0) {
  console.log(
    `  on ${sotuPages.length} State of the Union pages of the corpus (characters of lines found in the speech):`,
  );
  for (const [name, fn] of [
    ["fast (ours)", extractFast],
    ["readability+linkedom", extractReadability],
  ] as const) {
    let ok = 0;
    let out = 0;
    let gold = 0;
    for (const [page, g] of sotuPages) {
      for (const l of fn(page).split("\n").map(norm).filter(Boolean)) {
        out += l.length;
        if (g.includes(l)) ok += l.length;
      }
      gold += g.length;
    }
    console.log(
      `  ${name.padEnd(22)} precision ${((100 * ok) / Math.max(1, out)).toFixed(1)}%   recall ${((100 * ok) / gold).toFixed(1)}%`,
    );
  }
}

// 4. language detectors: speed on the extracted text of the same pages
const texts = html.map((h) => extractFast(h).slice(0, 500));
const textMB = mb(texts.reduce((a, t) => a + Buffer.byteLength(t), 0));
console.log(
  `\nlanguage ID (${texts.length} documents, first 500 characters each, as the pipeline does):`,
);
const detSpeed: Record<string, number> = {};
for (const det of ["eld", "eld-small", "franc"] as const) {
  await loadDetector(det);
  for (const t of texts.slice(0, 20)) detectLanguage(t, det);
  const c = process.cpuUsage();
  for (const t of texts) detectLanguage(t, det);
  const s = cpuSeconds(process.cpuUsage(c));
  detSpeed[det] = s;
  console.log(
    `  ${det.padEnd(10)} ${((1e6 * s) / texts.length).toFixed(0).padStart(6)} µs/doc  ${(textMB / s).toFixed(1)} MB/s`,
  );
}
console.log(
  `  ratio: eld is ${((detSpeed.franc ?? 0) / (detSpeed.eld ?? 1)).toFixed(1)}× faster than franc (accuracy: chatforge data langid-eval)`,
);
