/**
 * `npm run bench:train-step`: trains the reference GPT-2-style model (vocab 8192, d 256,
 * 6 layers, 8 heads, ctx 256, batch 16: 6.9M parameters) on random tokens and prints the step
 * time, tokens/s and MFU; then, when Debian's python3-torch is installed, trains the same model
 * with PyTorch in its best set-up on this machine and prints the ratio.
 *
 * Options (environment): BENCH_STEPS (timed steps, default 10), CHATFORGE_BACKEND, and
 * BENCH_CONFIG=small for the 1.35M-parameter config (d 128, 4 layers).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GPT2, type GPT2Config } from "../model/gpt2.js";
import { memoryStats, scope } from "../tensor/memory.js";
import { AdamW, clipGradNorm, defaultGroups } from "../tensor/optim.js";
import { Rng } from "../tensor/rng.js";
import { backward } from "../tensor/tensor.js";
import { initCompute } from "../tensor/wasm/backend.js";
import { measurePeakGflops } from "../train/mfu.js";

const small = process.env.BENCH_CONFIG === "small";
const cfg: GPT2Config = small
  ? { vocabSize: 8192, nCtx: 256, nEmbd: 128, nLayer: 4, nHead: 4 }
  : { vocabSize: 8192, nCtx: 256, nEmbd: 256, nLayer: 6, nHead: 8 };
const B = 16;
const T = cfg.nCtx;
const STEPS = Number(process.env.BENCH_STEPS ?? 10);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Measured sgemm peak (GFLOP/s) at 2048³ on the active backend, best of 6 runs (the machine
 * may be shared; the best run is the closest to its real peak): the MFU denominator.
 */

let peak = 0;

function ours(): {
  tokensPerS: number;
  stepMs: number;
  bestMs: number;
  cpuMs: number;
  mfu: number;
  loss: number;
  params: number;
} {
  const model = new GPT2(cfg, 0);
  const opt = new AdamW(defaultGroups(model.params, 0.1), { lr: 3e-4 });
  const rng = new Rng(42);
  const ids = new Int32Array(B * T).map(() => rng.int(cfg.vocabSize));
  const targets = new Int32Array(B * T).map(() => rng.int(cfg.vocabSize));
  const times: number[] = [];
  const cpu: number[] = [];
  let loss = 0;
  let carvedAfterWarmup = 0;
  for (let i = 0; i < STEPS + 2; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    scope(() => {
      const l = model.loss(ids, targets, B, T);
      opt.zeroGrad();
      backward(l);
      loss = l.item();
    });
    clipGradNorm(model.params, 1.0);
    opt.step();
    const dt = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (i >= 2) {
      times.push(dt);
      cpu.push((c.user + c.system) / 1000);
    }
    if (i === 1) carvedAfterWarmup = memoryStats().carvedBytes;
    process.stdout.write(
      `  step ${i}${i < 2 ? " (warm-up)" : ""}: ${dt.toFixed(0)} ms, loss ${loss.toFixed(4)}\n`,
    );
  }
  if (memoryStats().carvedBytes !== carvedAfterWarmup) {
    process.stdout.write("  warning: memory grew after warm-up\n");
  }
  const stepMs = median(times);
  const bestMs = Math.min(...times);
  const cpuMs = median(cpu);
  const params = model.numParams();
  const nonEmb = params - cfg.nCtx * cfg.nEmbd;
  const flopsPerToken = 6 * nonEmb + 12 * cfg.nLayer * cfg.nEmbd * T; // PaLM appendix B
  const tokensPerS = (B * T) / (stepMs / 1000);
  peak = measurePeakGflops(2048, 6);
  // MFU of the best step (the least disturbed by other jobs on a shared machine)
  const mfu = (((B * T) / (bestMs / 1000)) * flopsPerToken) / (peak * 1e9);
  return { tokensPerS, stepMs, bestMs, cpuMs, mfu, loss, params };
}

function torchPeer():
  | { tokensPerS: number; stepMs: number; bestMs: number; cpuMs: number; version: string }
  | string {
  const py = "/usr/bin/python3";
  const here = dirname(fileURLToPath(import.meta.url));
  const script = join(here, "..", "..", "src", "bench", "torch_train_step.py");
  if (!existsSync(py) || !existsSync(script)) return "PyTorch not available";
  const probe = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) return "PyTorch not available (python3-torch is not installed)";
  const omp = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
  const env = { ...process.env, OMP_NUM_THREADS: "2" } as NodeJS.ProcessEnv;
  if (existsSync(omp)) env.LD_LIBRARY_PATH = omp;
  const args = [cfg.vocabSize, cfg.nEmbd, cfg.nLayer, cfg.nHead, T, B, STEPS, 2].map(String);
  const r = spawnSync(py, [script, ...args], { encoding: "utf8", env });
  if (r.status !== 0) return `PyTorch run failed: ${r.stderr.trim().split("\n").pop()}`;
  const j = JSON.parse(r.stdout.trim().split("\n").pop()!);
  return {
    tokensPerS: j.tokens_per_s,
    stepMs: j.step_ms,
    bestMs: j.best_ms,
    cpuMs: j.cpu_ms,
    version: j.torch,
  };
}

function cpuModel(): string {
  return `${cpus()[0]?.model ?? "unknown CPU"} ×${cpus().length}`;
}

async function main() {
  const banner = await initCompute();

  const name = small ? "small (1.35M)" : "reference (6.9M)";
  process.stdout.write(
    `train-step bench (${new Date().toISOString().slice(0, 10)}, ${cpuModel()}, load ${loadavg()[0]!.toFixed(1)}): GPT-2 ${name}, vocab ${cfg.vocabSize}, d ${cfg.nEmbd}, ${cfg.nLayer} layers, ${cfg.nHead} heads, ctx ${T}, batch ${B}\n`,
  );
  process.stdout.write(`backend: ${banner}\n`);
  const o = ours();
  process.stdout.write(
    `chatforge: ${(o.params / 1e6).toFixed(2)}M params, ${o.stepMs.toFixed(0)} ms/step (median; best ${o.bestMs.toFixed(0)}), ${o.tokensPerS.toFixed(0)} tokens/s, ${(o.cpuMs / 1000).toFixed(2)} CPU-s/step, MFU ${(100 * o.mfu).toFixed(1)}% (best step, of the measured sgemm peak ${peak.toFixed(0)} GFLOP/s)\n`,
  );
  const t = process.env.BENCH_PEER === "0" ? "PyTorch run skipped (BENCH_PEER=0)" : torchPeer();
  if (typeof t === "string") {
    process.stdout.write(`${t}\n`);
    return;
  }
  process.stdout.write(
    `pytorch ${t.version}: ${t.stepMs.toFixed(0)} ms/step (median; best ${t.bestMs.toFixed(0)}), ${t.tokensPerS.toFixed(0)} tokens/s, ${(t.cpuMs / 1000).toFixed(2)} CPU-s/step\n`,
  );
  process.stdout.write(
    `ratio chatforge / pytorch tokens/s: ${(o.tokensPerS / t.tokensPerS).toFixed(2)}x (median steps), ${(t.bestMs / o.bestMs).toFixed(2)}x (best steps), ${(t.cpuMs / o.cpuMs).toFixed(2)}x (CPU time)\n`,
  );
  process.stdout.write(
    `load average at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}\n`,
  );
}

await main();
