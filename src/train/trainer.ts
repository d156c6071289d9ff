/**
 * Pretraining by next-token prediction: the loop of the video's "neural network training".
 *
 *   for step in [start, steps):
 *     lr ← schedule(step)
 *     for each of gradAccum micro-batches:  loss = model(x, y);  backprop(loss / gradAccum)
 *     clip the global gradient norm;  AdamW update;  zero the gradients
 *     every evalEvery steps: validation loss and bits per byte
 *     every sampleEvery steps: a few sampled continuations
 *     every checkpointEvery steps: an atomic checkpoint (model, optimizer, loader position)
 *
 * `resume` continues from the latest checkpoint: same data position, same optimizer moments,
 * same schedule, so the loss curve continues as if never interrupted.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createDecoder } from "../infer/decoder.js";
import { generate } from "../infer/generate.js";
import { createModel, type LanguageModel } from "../model/factory.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import { describeBackend } from "../tensor/backend.js";
import { scope } from "../tensor/memory.js";
import { crossEntropy } from "../tensor/ops.js";
import { AdamW, clipGradNorm, defaultGroups, schedule } from "../tensor/optim.js";
import { backward, noGrad } from "../tensor/tensor.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { writeFileAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { formatCount, Progress } from "../util/progress.js";
import type { RunDir } from "../util/run-dir.js";
import { lineChartSvg } from "../util/svg-plot.js";
import {
  checkpointName,
  freshTrainerState,
  restoreOptimizer,
  resumePoint,
  saveCheckpoint,
  type TrainerState,
} from "./checkpoint.js";
import { ShardLoader } from "./loader.js";
import { flopsPerToken, measurePeakGflops } from "./mfu.js";

export type ScheduleKind = "constant" | "linear" | "cosine" | "constant-decay";

export interface TrainOptions {
  run: RunDir;
  /** Checkpoints go to checkpoints/<stage>/, logs to logs/<stage>.jsonl. */
  stage: string;
  shardsDir: string;
  tokenizer: Tokenizer;
  modelConfig: ModelConfig;
  batchSize: number;
  seqLen: number;
  gradAccum: number;
  steps: number;
  lr: number;
  warmup: number;
  schedule: ScheduleKind;
  minLrRatio: number;
  weightDecay: number;
  clip: number;
  evalEvery: number;
  evalBatches: number;
  sampleEvery: number;
  samplePrompts: string[];
  sampleTokens: number;
  checkpointEvery: number;
  keep: number;
  seed: number;
  resume: boolean;
  /** Start over even if checkpoints exist (they are replaced as new ones are written). */
  overwrite: boolean;
  quiet?: boolean;
  /** Stop (with a checkpoint) after this many steps in this process (tests, time-boxed runs). */
  stopAfter?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
  print?: (line: string) => void;
}

export interface TrainResult {
  state: TrainerState;
  params: number;
  tokensPerSecond: number;
  mfu: number;
  finalVal?: { loss: number; bpb: number };
  samples: { prompt: string; text: string }[];
  checkpoint: string;
}

function shardFiles(dir: string, split: "train" | "val"): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new UserError(`no shard folder ${dir}`, "run `chatforge data tokenize` first");
  }
  return names
    .filter((n) => n.startsWith(`${split}_`) && n.endsWith(".bin"))
    .sort()
    .map((n) => join(dir, n));
}

/** The settings that must not change across a resume. */
function resumeKey(o: TrainOptions): Record<string, unknown> {
  return {
    modelConfig: o.modelConfig,
    batchSize: o.batchSize,
    seqLen: o.seqLen,
    gradAccum: o.gradAccum,
    steps: o.steps,
    lr: o.lr,
    warmup: o.warmup,
    schedule: o.schedule,
    minLrRatio: o.minLrRatio,
    weightDecay: o.weightDecay,
    clip: o.clip,
    seed: o.seed,
  };
}

/** Validation loss (nats/token) and bits per byte over the first `batches` val batches. */
export function evaluate(
  model: LanguageModel,
  loader: ShardLoader,
  batches: number,
  bytesPerToken: Uint8Array,
): { loss: number; bpb: number } {
  loader.reset();
  let lossSum = 0;
  let tokens = 0;
  let nats = 0;
  let bytes = 0;
  const B = loader.B;
  const T = loader.T;
  for (let i = 0; i < batches; i++) {
    const { x, y } = loader.next();
    noGrad(() =>
      scope(() => {
        const logits = model.forward(x, B, T, false);
        const V = logits.dim(-1);
        const flat = logits.reshape([B * T, V]);
        lossSum += crossEntropy(flat, y).item() * B * T;
        tokens += B * T;
        // bits per byte counts only tokens that stand for text (not <|endoftext|> and friends)
        const w = new Float32Array(B * T);
        let wsum = 0;
        let b = 0;
        for (let j = 0; j < y.length; j++) {
          const n = bytesPerToken[y[j]!]!;
          w[j] = n > 0 ? 1 : 0;
          wsum += w[j]!;
          b += n;
        }
        if (wsum > 0) nats += crossEntropy(flat, y, { weights: w }).item() * wsum;
        bytes += b;
      }),
    );
  }
  return { loss: lossSum / tokens, bpb: bytes > 0 ? nats / Math.LN2 / bytes : Number.NaN };
}

/** Bytes each token id stands for (0 for special tokens). */
export function tokenByteLengths(tok: Tokenizer, vocabSize: number): Uint8Array {
  const out = new Uint8Array(vocabSize);
  for (let id = 0; id < Math.min(vocabSize, tok.vocabSize); id++) {
    out[id] = tok.isSpecial(id) ? 0 : Math.min(255, tok.tokenBytes(id).length);
  }
  return out;
}

/** Samples continuations of each prompt with the model's KV-cache decoder. */
export function sampleTexts(
  model: LanguageModel,
  cfg: ModelConfig,
  tok: Tokenizer,
  prompts: string[],
  maxNewTokens: number,
  seed: number,
): { prompt: string; text: string }[] {
  const dec = createDecoder(model, cfg);
  const eot = tok.specialTokenId("<|endoftext|>");
  return prompts.map((prompt) => {
    const ids = [eot, ...tok.encodeOrdinary(prompt)].slice(-(cfg.nCtx - 1));
    const n = Math.min(maxNewTokens, cfg.nCtx - ids.length);
    const g = generate(dec, tok, ids, {
      maxNewTokens: n,
      temperature: 0.8,
      topK: 50,
      seed,
      stopTokens: [eot],
    });
    return { prompt, text: g.text };
  });
}

function plotLoss(state: TrainerState, title: string): string {
  return lineChartSvg(
    [
      { name: "train loss", points: state.history.map((h) => [h.step, h.loss]) },
      { name: "val loss", points: state.val.map((v) => [v.step, v.loss]) },
    ],
    { title, xLabel: "step", yLabel: "loss (nats/token)" },
  );
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const print = o.print ?? ((l: string) => process.stderr.write(`${l}\n`));
  const log = o.log ?? (() => {});
  const ckptRoot = o.run.path("checkpoints", o.stage);
  const trainFiles = shardFiles(o.shardsDir, "train");
  const valFiles = shardFiles(o.shardsDir, "val");
  if (!trainFiles.length)
    throw new UserError(
      `no train_*.bin shards in ${o.shardsDir}`,
      "run `chatforge data tokenize` first",
    );
  const cfg = o.modelConfig;
  if (o.tokenizer.vocabSize > cfg.vocabSize) {
    throw new UserError(
      `the tokenizer has ${o.tokenizer.vocabSize} tokens but the model only ${cfg.vocabSize}`,
    );
  }
  if (o.seqLen > cfg.nCtx)
    throw new UserError(`--seq-len ${o.seqLen} exceeds the model context ${cfg.nCtx}`);

  let model: LanguageModel;
  let state: TrainerState;
  const key = resumeKey(o);
  const saved = await resumePoint(ckptRoot, key, o);
  const existing = saved?.dir;
  if (saved) {
    model = saved.model;
    state = saved.state;
    print(`resuming from ${saved.dir} at step ${state.step}`);
  } else {
    model = createModel(cfg, o.seed);
    state = freshTrainerState(key);
  }

  const opt = new AdamW(defaultGroups(model.params, o.weightDecay), {
    lr: o.lr,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
  });
  if (saved?.optimizer) restoreOptimizer(opt, model, saved.optimizer, existing!);
  const sched = schedule(o.schedule, {
    lr: o.lr,
    steps: o.steps,
    warmup: o.warmup,
    minRatio: o.minLrRatio,
  });
  const loader = new ShardLoader(trainFiles, o.batchSize, o.seqLen);
  loader.reset(state.loader);
  // validation uses fewer rows per batch, and fewer batches, when the val split is small
  let valLoader: ShardLoader | null = null;
  let evalBatches = o.evalBatches;
  if (valFiles.length) {
    const probe = new ShardLoader(valFiles, 1, o.seqLen);
    const longest = Math.max(...probe.counts);
    const Bv = Math.min(o.batchSize, Math.floor((longest - 1) / o.seqLen));
    if (Bv >= 1) {
      valLoader = new ShardLoader(valFiles, Bv, o.seqLen);
      const batches = probe.counts.reduce((a, n) => a + Math.floor((n - 1) / (Bv * o.seqLen)), 0);
      evalBatches = Math.max(1, Math.min(o.evalBatches, batches));
    } else {
      print(
        `warning: the validation split (${longest} tokens) is shorter than one sequence; no validation`,
      );
    }
  }
  const bytesPerToken = tokenByteLengths(o.tokenizer, cfg.vocabSize);

  const params = model.numParams();
  const fpt = flopsPerToken(params, cfg.nLayer, o.seqLen, cfg.nEmbd);
  const peak = measurePeakGflops();
  const tokensPerStep = o.batchSize * o.seqLen * o.gradAccum;
  print(
    `model ${cfg.family}: ${(params / 1e6).toFixed(2)}M parameters, d ${cfg.nEmbd}, ${cfg.nLayer} layers, ${cfg.nHead} heads, ctx ${cfg.nCtx}`,
  );
  print(
    `backend ${describeBackend()}; sgemm peak ${peak.toFixed(0)} GFLOP/s; ${formatCount(tokensPerStep)} tokens/step; ${o.steps} steps`,
  );
  log("model", {
    params,
    modelConfig: cfg,
    backend: describeBackend(),
    peakGflops: peak,
    tokensPerStep,
  });

  const progress = new Progress(o.stage, {
    total: o.steps,
    unit: "steps",
    quiet: o.quiet,
    plainInterval: 10,
  });
  progress.update(state.step);
  let stepsThisRun = 0;
  let tokSec = 0;
  let mfu = 0;
  let finalVal: TrainResult["finalVal"];
  let samples: TrainResult["samples"] = [];
  let lastCkpt = existing ?? "";

  const checkpoint = async () => {
    state.loader = { ...loader.state };
    lastCkpt = await saveCheckpoint(ckptRoot, cfg, model, opt, state, o.keep);
    await writeFileAtomic(
      o.run.path("plots", `${o.stage}-loss.svg`),
      plotLoss(state, `${o.stage}: loss`),
    );
    log("checkpoint", { step: state.step, path: lastCkpt });
  };
  const runEval = () => {
    if (!valLoader) return;
    const v = evaluate(model, valLoader, evalBatches, bytesPerToken);
    state.val.push({ step: state.step, ...v });
    finalVal = v;
    log("val", { step: state.step, ...v });
    print(`step ${state.step}: val loss ${v.loss.toFixed(4)}, ${v.bpb.toFixed(4)} bits/byte`);
  };
  const runSamples = () => {
    samples = sampleTexts(
      model,
      cfg,
      o.tokenizer,
      o.samplePrompts,
      o.sampleTokens,
      o.seed + state.step,
    );
    for (const s of samples) {
      print(`sample @${state.step} | ${s.prompt}${s.text.replace(/\n/g, "⏎")}`);
      log("sample", { step: state.step, ...s });
    }
  };

  while (state.step < o.steps) {
    if (o.stopAfter !== undefined && stepsThisRun >= o.stopAfter) break;
    const t0 = performance.now();
    const lr = sched(state.step);
    opt.lr = lr;
    let lossSum = 0;
    for (let a = 0; a < o.gradAccum; a++) {
      const { x, y } = loader.next();
      scope(() => {
        const loss = model.loss(x, y, o.batchSize, o.seqLen, true);
        lossSum += loss.item();
        backward(loss, Float32Array.of(1 / o.gradAccum));
      });
    }
    const loss = lossSum / o.gradAccum;
    if (!Number.isFinite(loss)) {
      throw new UserError(
        `the loss became ${loss} at step ${state.step}`,
        "lower --lr, or rerun with --resume --check-finite to name the op that produced it",
      );
    }
    const norm = clipGradNorm(model.params, o.clip);
    opt.step();
    opt.zeroGrad();
    const dt = (performance.now() - t0) / 1000;
    state.step++;
    stepsThisRun++;
    state.tokensSeen += tokensPerStep;
    state.seconds += dt;
    state.history.push({ step: state.step, loss, lr });
    // smoothed throughput
    const ts = tokensPerStep / dt;
    tokSec = tokSec === 0 ? ts : 0.9 * tokSec + 0.1 * ts;
    mfu = (tokSec * fpt) / (peak * 1e9);
    log("step", { step: state.step, loss, lr, gradNorm: norm, seconds: dt, tokensPerSecond: ts });
    progress.update(
      state.step,
      `loss ${loss.toFixed(3)}  lr ${lr.toExponential(2)}  ${formatCount(tokSec)} tok/s  MFU ${(100 * mfu).toFixed(1)}%`,
    );
    const last = state.step === o.steps;
    if (o.evalEvery > 0 && (state.step % o.evalEvery === 0 || last)) runEval();
    if (o.sampleEvery > 0 && (state.step % o.sampleEvery === 0 || last)) runSamples();
    if (last || (o.checkpointEvery > 0 && state.step % o.checkpointEvery === 0)) await checkpoint();
  }
  progress.finish();
  if (
    state.step < o.steps &&
    stepsThisRun > 0 &&
    lastCkpt !== join(ckptRoot, checkpointName(state.step))
  ) {
    await checkpoint();
  }
  if (state.step >= o.steps && samples.length === 0 && o.samplePrompts.length) runSamples();
  if (state.step >= o.steps && !finalVal && state.val.length) finalVal = state.val.at(-1);
  return { state, params, tokensPerSecond: tokSec, mfu, finalVal, samples, checkpoint: lastCkpt };
}
