/**
 * The tools' speed (issue 13): code-tool calls per second and latency, cold (the WebAssembly
 * module loaded and the first call) and warm, on the calls the tasks teach (one expression, a
 * string method chain) and on a 1,000-iteration loop; search queries per second on a run's
 * index. Peers: for code, Node's own `vm` module (a fresh context per call with a timeout — what
 * a project without a sandbox would use; it is not a sandbox, the host is reachable from it);
 * for search, a linear BM25 scan over every passage (what an index saves).
 *
 *   npm run bench:tools                          # code tool only
 *   BENCH_RUN=speedrun npm run bench:tools       # and search on runs/speedrun/index
 */
import { runInNewContext } from "node:vm";
import { loadKnowledge } from "../knowledge/index.js";
import { factQuery, loadRunIndex, queryTerms } from "../search/index.js";
import { createCodeTool } from "../tools/code.js";
import { RunDir } from "../util/run-dir.js";

const CALLS: [name: string, code: string][] = [
  ["expression  2 * 3", "2 * 3"],
  ["string  count the r's", '"strawberry".split("").filter(c => c === "r").length'],
  ["loop  1,000 iterations", "let s = 0; for (let i = 0; i < 1000; i++) s += i * i; s"],
];

function perCall(n: number, f: () => unknown): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t0) / n;
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
}

const t0 = performance.now();
const code = await createCodeTool();
const loaded = performance.now() - t0;
const [, first] = timed(() => code.run("2 * 3"));
console.log(`code tool: module load ${loaded.toFixed(1)} ms, first call ${first.toFixed(2)} ms`);
console.log(
  `${"call".padEnd(28)} ${"chatforge ms".padStart(12)} ${"calls/s".padStart(9)} ${"node:vm ms".padStart(11)} ${"ratio".padStart(7)}`,
);
for (const [name, src] of CALLS) {
  const n = 300;
  perCall(20, () => code.run(src));
  const ms = perCall(n, () => code.run(src));
  const vm = perCall(n, () => runInNewContext(src, {}, { timeout: 2000 }));
  console.log(
    `${name.padEnd(28)} ${ms.toFixed(3).padStart(12)} ${(1000 / ms).toFixed(0).padStart(9)} ${vm.toFixed(3).padStart(11)} ${(vm / ms).toFixed(2).padStart(6)}x`,
  );
}
const [timeout, tms] = timed(() => code.run("while (true) {}"));
const [, after] = timed(() => code.run("1 + 1"));
console.log(
  `an infinite loop: "${timeout.output}" after ${tms.toFixed(0)} ms; the next call ${after.toFixed(2)} ms`,
);
code.dispose?.();

const runName = process.env.BENCH_RUN;
if (runName) {
  const run = new RunDir(runName);
  const [index, loadMs] = timed(() => loadRunIndex(run));
  const kb = loadKnowledge();
  const queries = kb.entities
    .flatMap((e) => e.facts.map((f) => factQuery(f.relation, e.name)))
    .filter((_, i) => i % 7 === 0)
    .slice(0, 2000);
  console.log(
    `\nsearch: ${index.passages.length} passages (${index.meta.counts.terms} terms) loaded in ${loadMs.toFixed(0)} ms; ${queries.length} fact queries`,
  );
  index.search(queries[0]!);
  const [, ms] = timed(() => {
    for (const q of queries) index.search(q, 3);
  });
  const scan = linearBm25(index.passages.map((p) => `${p.title} ${p.text}`));
  const sample = queries.slice(0, 100);
  const [, scanMs] = timed(() => {
    for (const q of sample) scan(q, 3);
  });
  const qps = (queries.length / ms) * 1000;
  const scanQps = (sample.length / scanMs) * 1000;
  console.log(
    `index (minisearch BM25): ${qps.toFixed(0)} queries/s, ${(ms / queries.length).toFixed(3)} ms each; linear BM25 scan: ${scanQps.toFixed(1)} queries/s; ratio ${(qps / scanQps).toFixed(0)}x`,
  );
}

/** BM25 (k1 1.2, b 0.75) by scoring every passage for every query: the peer an index beats. */
function linearBm25(texts: string[]): (query: string, k: number) => number[] {
  const docs = texts.map((t) => {
    const tf = new Map<string, number>();
    for (const w of queryTerms(t)) tf.set(w, (tf.get(w) ?? 0) + 1);
    let len = 0;
    for (const v of tf.values()) len += v;
    return { tf, len };
  });
  const avg = docs.reduce((a, d) => a + d.len, 0) / docs.length;
  return (query, k) => {
    const terms = queryTerms(query);
    const idf = terms.map((t) => {
      let n = 0;
      for (const d of docs) if (d.tf.has(t)) n++;
      return Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
    });
    const scores = docs.map((d) => {
      let s = 0;
      terms.forEach((t, j) => {
        const f = d.tf.get(t) ?? 0;
        if (f) s += (idf[j]! * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * d.len) / avg));
      });
      return s;
    });
    return scores
      .map((s, i) => [s, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, k)
      .map(([, i]) => i);
  };
}
