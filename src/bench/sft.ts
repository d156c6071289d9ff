/**
 * `npm run bench:sft`: supervised fine-tuning throughput. Builds real SFT rows (the tasks'
 * default mixture rendered with the chat template and packed into rows of the context, as
 * `chatforge sft` does), writes the packed batches and the model's initial weights to a temp
 * folder, then runs SFT steps (masked next-token loss, AdamW β 0.9/0.95, clip 1, as in
 * src/post/sft.ts) with chatforge and with PyTorch on exactly those batches from exactly those
 * weights. Prints both first-step losses, the step times, tokens/s over all positions and
 * trained tokens/s over the mask-1 targets only, and the ratios.
 *
 * Options (environment): BENCH_STEPS (timed steps, default 10), BENCH_CONFIG=reference for
 * the 6.9M-parameter config (d 256, 6 layers, 8 heads; default: the speedrun's tiny preset),
 * BENCH_TOKENIZER (a tokenizer folder with the chat tokens; default runs/speedrun/tokenizer if
 * it exists, else one is trained on the packaged text), BENCH_EXAMPLES (task conversations,
 * default 5000), BENCH_PEER=0 to skip PyTorch, CHATFORGE_BACKEND.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasChatTokens } from "../chat/template.js";
import { loadKnowledge } from "../knowledge/index.js";
import { GPT2, type GPT2Config } from "../model/gpt2.js";
import { writeSafetensors } from "../model/io/safetensors.js";
import { countTrained, type PackedRows, RowLoader } from "../post/sft.js";
import { buildSftData } from "../post/sft-data.js";
import { DEFAULT_MIXTURE_SIZE, DEFAULT_MIXTURE_WEIGHTS } from "../tasks/mixture.js";
import type { TaskContext } from "../tasks/task.js";
import { memoryStats, scope } from "../tensor/memory.js";
import { AdamW, clipGradNorm, defaultGroups } from "../tensor/optim.js";
import { backward } from "../tensor/tensor.js";
import { initCompute } from "../tensor/wasm/backend.js";
import { Tokenizer } from "../tokenizer/tokenizer.js";
import { trainTokenizer } from "../tokenizer/train.js";
import { measurePeakGflops } from "../train/mfu.js";

const reference = process.env.BENCH_CONFIG === "reference";
const B = 16;
const T = 256;
const STEPS = Number(process.env.BENCH_STEPS ?? 10);
const WARMUP = 2;
const EXAMPLES = Number(process.env.BENCH_EXAMPLES ?? DEFAULT_MIXTURE_SIZE);
/** `chatforge sft`'s defaults: peak lr 1e-3, no weight decay, clip 1 (constant lr here). */
const LR = 1e-3;
const WEIGHT_DECAY = 0;
const CLIP = 1;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function cpuModel(): string {
  return `${cpus()[0]?.model ?? "unknown CPU"} ×${cpus().length}`;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

/** A tokenizer with the chat tokens: BENCH_TOKENIZER, the speedrun's, or one trained now. */
async function tokenizer(): Promise<{ tok: Tokenizer; where: string }> {
  const dir = process.env.BENCH_TOKENIZER ?? join(root, "runs", "speedrun", "tokenizer");
  if (process.env.BENCH_TOKENIZER || existsSync(dir)) {
    const tok = await Tokenizer.load(dir);
    if (!hasChatTokens(tok.specialTokens)) {
      throw new Error(`${dir}: the tokenizer has no chat tokens (<|im_start|> …)`);
    }
    return { tok, where: dir };
  }
  const t0 = performance.now();
  const data = (pkg: string) => join(root, "node_modules", "@stdlib", pkg, "data");
  const tok = await trainTokenizer({
    inputs: [data("datasets-sotu"), data("datasets-moby-dick")],
    vocabSize: 8192,
    maxBytes: 4e6,
    quiet: true,
  });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  return { tok, where: `trained now on 4 MB of sotu + moby-dick in ${s} s` };
}

/** The SFT rows of the default task mixture. */
async function sftRows(tok: Tokenizer, cfg: GPT2Config, params: number): Promise<PackedRows> {
  const ctx: TaskContext = {
    seed: 1,
    knowledge: loadKnowledge(),
    identity: {
      family: "gpt2",
      params,
      layers: cfg.nLayer,
      contextLength: cfg.nCtx,
      data: "State of the Union addresses, the novel Moby-Dick and old e-mails",
      tokens: 11_000_000,
    },
  };
  const data = await buildSftData({
    tok,
    T,
    mixture: { ...DEFAULT_MIXTURE_WEIGHTS },
    examples: EXAMPLES,
    valExamples: 0,
    ctx,
    files: [],
  });
  return data.train;
}

/**
 * The batches of the timed run: STEPS + WARMUP batches of B rows in `chatforge sft`'s order
 * (RowLoader, seed 1), as int32 x then y per step; written to `path` and read back from it.
 */
function writeBatches(rows: PackedRows, path: string): { x: Int32Array; y: Int32Array }[] {
  const loader = new RowLoader(rows, B, 1);
  const n = STEPS + WARMUP;
  const all = new Int32Array(n * 2 * B * T);
  for (let i = 0; i < n; i++) {
    const { x, y } = loader.next();
    all.set(x, 2 * i * B * T);
    all.set(y, (2 * i + 1) * B * T);
  }
  writeFileSync(path, new Uint8Array(all.buffer));
  const buf = readFileSync(path);
  const back = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return Array.from({ length: n }, (_, i) => ({
    x: back.slice(2 * i * B * T, (2 * i + 1) * B * T),
    y: back.slice((2 * i + 1) * B * T, (2 * i + 2) * B * T),
  }));
}

let peak = 0;

/** What a peer measured: the timed steps' wall and CPU times (ms), every step's loss. */
interface Result {
  times: number[];
  cpu: number[];
  losses: number[];
}

interface Stats {
  stepMs: number;
  bestMs: number;
  cpuMs: number;
  /** B·T / median step. */
  tokensPerS: number;
  /** Median over the timed steps of (mask-1 targets of the step) / (its time). */
  trainedPerS: number;
}

function stats(r: Result, trained: number[]): Stats {
  const stepMs = median(r.times);
  return {
    stepMs,
    bestMs: Math.min(...r.times),
    cpuMs: median(r.cpu),
    tokensPerS: (B * T) / (stepMs / 1000),
    trainedPerS: median(r.times.map((t, i) => trained[i]! / (t / 1000))),
  };
}

/** `chatforge sft`'s step (src/post/sft.ts) on the batches. */
function ours(model: GPT2, batches: { x: Int32Array; y: Int32Array }[]): Result & { mfu: number } {
  const opt = new AdamW(defaultGroups(model.params, WEIGHT_DECAY), {
    lr: LR,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
  });
  const times: number[] = [];
  const cpu: number[] = [];
  const losses: number[] = [];
  let carvedAfterWarmup = 0;
  for (const [i, { x, y }] of batches.entries()) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let loss = 0;
    scope(() => {
      const l = model.loss(x, y, B, T, true);
      loss = l.item();
      backward(l);
    });
    clipGradNorm(model.params, CLIP);
    opt.step();
    opt.zeroGrad();
    const dt = performance.now() - t0;
    const c = process.cpuUsage(c0);
    losses.push(loss);
    if (i >= WARMUP) {
      times.push(dt);
      cpu.push((c.user + c.system) / 1000);
    }
    if (i === WARMUP - 1) carvedAfterWarmup = memoryStats().carvedBytes;
    process.stdout.write(
      `  step ${i}${i < WARMUP ? " (warm-up)" : ""}: ${dt.toFixed(0)} ms, loss ${loss.toFixed(4)}\n`,
    );
  }
  if (memoryStats().carvedBytes !== carvedAfterWarmup) {
    process.stdout.write("  warning: memory grew after warm-up\n");
  }
  const cfg = model.config;
  const nonEmb = model.numParams() - cfg.nCtx * cfg.nEmbd;
  const flopsPerToken = 6 * nonEmb + 12 * cfg.nLayer * cfg.nEmbd * T; // PaLM appendix B
  const bestMs = Math.min(...times);
  peak = measurePeakGflops(2048, 6);
  // MFU of the best step over all positions (the loss is computed at every position)
  const mfu = (((B * T) / (bestMs / 1000)) * flopsPerToken) / (peak * 1e9);
  return { times, cpu, losses, mfu };
}

function torchPeer(
  cfg: GPT2Config,
  weights: string,
  batches: string,
): (Result & { version: string }) | string {
  const py = "/usr/bin/python3";
  const script = join(root, "src", "bench", "torch_sft.py");
  if (!existsSync(py) || !existsSync(script)) return "PyTorch not available";
  const probe = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) return "PyTorch not available (python3-torch is not installed)";
  const omp = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
  const env = { ...process.env, OMP_NUM_THREADS: "2" } as NodeJS.ProcessEnv;
  if (existsSync(omp)) env.LD_LIBRARY_PATH = omp;
  const args = [
    weights,
    batches,
    ...[cfg.vocabSize, cfg.nEmbd, cfg.nLayer, cfg.nHead, T, B, STEPS, WARMUP, 2].map(String),
    String(LR),
    String(WEIGHT_DECAY),
  ];
  const r = spawnSync(py, [script, ...args], { encoding: "utf8", env });
  if (r.status !== 0) return `PyTorch run failed: ${r.stderr.trim().split("\n").pop()}`;
  const j = JSON.parse(r.stdout.trim().split("\n").pop()!);
  return { times: j.times_ms, cpu: j.cpu_ms, losses: j.losses, version: j.torch };
}

async function main() {
  const banner = await initCompute();
  const dir = await mkdtemp(join(tmpdir(), "chatforge-bench-sft-"));
  try {
    const { tok, where } = await tokenizer();
    const cfg: GPT2Config = reference
      ? { vocabSize: tok.vocabSize, nCtx: T, nEmbd: 256, nLayer: 6, nHead: 8 }
      : { vocabSize: tok.vocabSize, nCtx: T, nEmbd: 128, nLayer: 4, nHead: 4 };
    const name = reference ? "reference (6.9M)" : "tiny (speedrun preset)";
    process.stdout.write(
      `sft bench (${new Date().toISOString().slice(0, 10)}, ${cpuModel()}, load ${loadavg()[0]!.toFixed(1)}): GPT-2 ${name}, vocab ${cfg.vocabSize}, d ${cfg.nEmbd}, ${cfg.nLayer} layers, ${cfg.nHead} heads, ctx ${T}, batch ${B}; AdamW β 0.9/0.95, lr ${LR}, clip ${CLIP}\n`,
    );
    process.stdout.write(`backend: ${banner}\n`);
    process.stdout.write(`tokenizer: ${where}\n`);

    const model = new GPT2(cfg, 0);
    const t0 = performance.now();
    const rows = await sftRows(tok, cfg, model.numParams());
    const batchFile = join(dir, "batches.i32");
    const batches = writeBatches(rows, batchFile);
    const timed = batches.slice(WARMUP);
    const perStep = timed.map((b) => countTrained({ T, rows: B, x: b.x, y: b.y }));
    const trained = perStep.reduce((s, n) => s + n, 0);
    const positions = timed.length * B * T;
    process.stdout.write(
      `data: ${EXAMPLES} task conversations → ${rows.rows} rows of ${T} (${((100 * countTrained(rows)) / (rows.rows * T)).toFixed(1)}% trained on) in ${((performance.now() - t0) / 1000).toFixed(1)} s; timed batches: ${trained} trained targets of ${positions} positions (${((100 * trained) / positions).toFixed(1)}%)\n`,
    );
    const weightFile = join(dir, "init.safetensors");
    await writeSafetensors(
      weightFile,
      new Map(
        model.params.map((p) => [p.name, { shape: [...p.shape], data: Float32Array.from(p.data) }]),
      ),
    );

    const o = ours(model, batches);
    const so = stats(o, perStep);
    process.stdout.write(
      `chatforge: ${(model.numParams() / 1e6).toFixed(2)}M params, ${so.stepMs.toFixed(0)} ms/step (median; best ${so.bestMs.toFixed(0)}), ${so.tokensPerS.toFixed(0)} tokens/s, ${so.trainedPerS.toFixed(0)} trained tokens/s, ${(so.cpuMs / 1000).toFixed(2)} CPU-s/step, MFU ${(100 * o.mfu).toFixed(1)}% (best step, all positions, of the measured sgemm peak ${peak.toFixed(0)} GFLOP/s)\n`,
    );
    const t =
      process.env.BENCH_PEER === "0"
        ? "PyTorch run skipped (BENCH_PEER=0)"
        : torchPeer(cfg, weightFile, batchFile);
    if (typeof t === "string") {
      process.stdout.write(`${t}\n`);
      return;
    }
    const st = stats(t, perStep);
    process.stdout.write(
      `pytorch ${t.version}: ${st.stepMs.toFixed(0)} ms/step (median; best ${st.bestMs.toFixed(0)}), ${st.tokensPerS.toFixed(0)} tokens/s, ${st.trainedPerS.toFixed(0)} trained tokens/s, ${(st.cpuMs / 1000).toFixed(2)} CPU-s/step\n`,
    );
    const l0 = o.losses[0]!;
    const p0 = t.losses[0]!;
    const last = o.losses.length - 1;
    process.stdout.write(
      `first-step loss (same weights, same batch): chatforge ${l0.toFixed(5)}, pytorch ${p0.toFixed(5)} (|Δ| ${Math.abs(l0 - p0).toExponential(1)}); step ${last}: ${o.losses[last]!.toFixed(4)} vs ${t.losses[last]!.toFixed(4)}\n`,
    );
    process.stdout.write(
      `ratio chatforge / pytorch: tokens/s ${(so.tokensPerS / st.tokensPerS).toFixed(2)}x, trained tokens/s ${(so.trainedPerS / st.trainedPerS).toFixed(2)}x (median steps); ${(st.bestMs / so.bestMs).toFixed(2)}x (best steps), ${(st.cpuMs / so.cpuMs).toFixed(2)}x (CPU time)\n`,
    );
    process.stdout.write(
      `load average at the end: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
