/**
 * Supervised fine-tuning: the video's step from "internet document simulator" to assistant.
 * The base model keeps its weights and its objective — next-token prediction — but now reads
 * conversations, and only the tokens the assistant writes count in the loss (DESIGN.md §4):
 *
 *   rows  ← conversations rendered to ids + mask, packed into rows of T (src/chat/pack.ts)
 *   for step in [start, steps):
 *     x, y ← the next B rows of this epoch's shuffled order (y = −1 where the mask is 0)
 *     loss = mean cross-entropy over the mask-1 targets;  backprop;  clip;  AdamW
 *     every evalEvery steps: the loss on the tasks' val conversations
 *     every checkpointEvery steps: an atomic checkpoint in checkpoints/<stage>/
 *
 * Same checkpoint layout and resume as pretraining (src/train/checkpoint.ts): a resumed run
 * reads the same rows in the same order and continues the same curve. The row order of an
 * epoch is a seeded permutation, so the position (epoch, row) is all the loader state there is.
 */
import type { LanguageModel } from "../model/factory.js";
import { describeBackend } from "../tensor/backend.js";
import { scope } from "../tensor/memory.js";
import { AdamW, clipGradNorm, defaultGroups, schedule } from "../tensor/optim.js";
import { Rng } from "../tensor/rng.js";
import { backward, noGrad } from "../tensor/tensor.js";
import {
  checkpointName,
  freshTrainerState,
  loadCheckpoint,
  restoreOptimizer,
  resumePoint,
  saveCheckpoint,
  type TrainerState,
} from "../train/checkpoint.js";
import type { ScheduleKind } from "../train/trainer.js";
import { writeFileAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { formatCount, Progress } from "../util/progress.js";
import type { RunDir } from "../util/run-dir.js";
import { lineChartSvg } from "../util/svg-plot.js";

/** Packed rows: `rows` rows of `T` inputs and targets (−1 = not trained on). */
export interface PackedRows {
  T: number;
  rows: number;
  x: Int32Array;
  y: Int32Array;
}

export interface SftOptions {
  run: RunDir;
  /** Checkpoints go to checkpoints/<stage>/ (default "sft"). */
  stage?: string;
  /** The checkpoint to start from (a step folder). */
  from: string;
  train: PackedRows;
  val?: PackedRows;
  /** A fingerprint of the data (resume refuses other data). */
  dataHash: string;
  batchSize: number;
  steps: number;
  lr: number;
  warmup: number;
  schedule: ScheduleKind;
  minLrRatio: number;
  weightDecay: number;
  clip: number;
  evalEvery: number;
  checkpointEvery: number;
  keep: number;
  seed: number;
  resume: boolean;
  overwrite: boolean;
  quiet?: boolean;
  /** Stop (with a checkpoint) after this many steps in this process (tests). */
  stopAfter?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
  print?: (line: string) => void;
}

export interface SftResult {
  state: TrainerState;
  params: number;
  /** Tokens per second, all positions / only mask-1 targets. */
  tokensPerSecond: number;
  trainedTokensPerSecond: number;
  /** Mask-1 targets seen so far. */
  trainedTokens: number;
  finalVal?: number;
  checkpoint: string;
}

/** Mask-1 targets in rows [0, rows). */
export function countTrained(p: PackedRows): number {
  let n = 0;
  for (let i = 0; i < p.y.length; i++) if (p.y[i]! >= 0) n++;
  return n;
}

/** FNV-1a over the packed targets and inputs: a cheap fingerprint for resume checks. */
export function hashRows(p: PackedRows): string {
  let h = 0x811c9dc5;
  const mix = (v: number) => {
    h ^= v & 0xffff;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= v >>> 16;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  mix(p.T);
  mix(p.rows);
  for (let i = 0; i < p.x.length; i++) {
    mix(p.x[i]!);
    mix(p.y[i]!);
  }
  return h.toString(16).padStart(8, "0");
}

/** The row order of one epoch: a permutation seeded by (seed, epoch). */
export function epochOrder(rows: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const rng = new Rng(seed * 1_000_003 + epoch);
  for (let i = rows - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** Reads B rows at a time in each epoch's shuffled order; the position is (epoch, pos). */
export class RowLoader {
  readonly x: Int32Array;
  readonly y: Int32Array;
  state = { shard: 0, pos: 0, epoch: 0 };
  #order: Uint32Array;
  #orderEpoch: number;

  constructor(
    readonly data: PackedRows,
    readonly B: number,
    readonly seed: number,
  ) {
    if (data.rows === 0) throw new UserError("no training rows: the SFT data is empty");
    this.x = new Int32Array(B * data.T);
    this.y = new Int32Array(B * data.T);
    this.#orderEpoch = 0;
    this.#order = epochOrder(data.rows, seed, 0);
  }

  next(): { x: Int32Array; y: Int32Array } {
    const T = this.data.T;
    for (let b = 0; b < this.B; b++) {
      if (this.state.pos >= this.data.rows) {
        this.state.epoch++;
        this.state.pos = 0;
      }
      if (this.#orderEpoch !== this.state.epoch) {
        this.#order = epochOrder(this.data.rows, this.seed, this.state.epoch);
        this.#orderEpoch = this.state.epoch;
      }
      const r = this.#order[this.state.pos++]!;
      this.x.set(this.data.x.subarray(r * T, (r + 1) * T), b * T);
      this.y.set(this.data.y.subarray(r * T, (r + 1) * T), b * T);
    }
    return { x: this.x, y: this.y };
  }
}

/** Mean loss over the mask-1 targets of all `rows` (B rows at a time). */
export function maskedLoss(model: LanguageModel, data: PackedRows, B: number): number {
  const T = data.T;
  let nats = 0;
  let n = 0;
  for (let r0 = 0; r0 < data.rows; r0 += B) {
    const b = Math.min(B, data.rows - r0);
    const x = data.x.subarray(r0 * T, (r0 + b) * T);
    const y = data.y.subarray(r0 * T, (r0 + b) * T);
    let k = 0;
    for (let i = 0; i < y.length; i++) if (y[i]! >= 0) k++;
    if (k === 0) continue;
    noGrad(() =>
      scope(() => {
        nats += model.loss(x, y, b, T, false).item() * k;
      }),
    );
    n += k;
  }
  return n > 0 ? nats / n : Number.NaN;
}

function resumeKey(o: SftOptions, from: string): Record<string, unknown> {
  return {
    from,
    data: o.dataHash,
    T: o.train.T,
    batchSize: o.batchSize,
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

function plotLoss(state: TrainerState, title: string): string {
  return lineChartSvg(
    [
      { name: "train loss (assistant tokens)", points: state.history.map((h) => [h.step, h.loss]) },
      { name: "val loss", points: state.val.map((v) => [v.step, v.loss]) },
    ],
    { title, xLabel: "step", yLabel: "loss (nats/token)" },
  );
}

export async function sft(o: SftOptions): Promise<SftResult> {
  const print = o.print ?? ((l: string) => process.stderr.write(`${l}\n`));
  const log = o.log ?? (() => {});
  const stage = o.stage ?? "sft";
  const ckptRoot = o.run.path("checkpoints", stage);
  const base = await loadCheckpoint(o.from);
  const cfg = base.modelConfig;
  if (o.train.T > cfg.nCtx) {
    throw new UserError(`SFT rows of ${o.train.T} tokens exceed the model context ${cfg.nCtx}`);
  }
  const key = resumeKey(o, base.dir);
  const saved = await resumePoint(ckptRoot, key, o);
  const existing = saved?.dir;
  let model: LanguageModel = base.model;
  let state: TrainerState = freshTrainerState(key);
  if (saved) {
    model = saved.model;
    state = saved.state;
    print(`resuming from ${saved.dir} at step ${state.step}`);
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
  const loader = new RowLoader(o.train, o.batchSize, o.seed);
  loader.state = { ...state.loader };

  const params = model.numParams();
  const T = o.train.T;
  const tokensPerStep = o.batchSize * T;
  const trainedPerRow = countTrained(o.train) / o.train.rows;
  print(
    `sft from ${base.dir}: ${(params / 1e6).toFixed(2)}M parameters; ${o.train.rows} rows of ${T} tokens (${(100 * (trainedPerRow / T)).toFixed(0)}% trained on); ${o.steps} steps of ${o.batchSize} rows (${((o.steps * o.batchSize) / o.train.rows).toFixed(1)} epochs); backend ${describeBackend()}`,
  );
  log("model", { params, modelConfig: cfg, from: base.dir, rows: o.train.rows, T });

  const progress = new Progress(stage, {
    total: o.steps,
    unit: "steps",
    quiet: o.quiet,
    plainInterval: 10,
  });
  progress.update(state.step);
  let stepsThisRun = 0;
  let tokSec = 0;
  let trainedSec = 0;
  let finalVal: number | undefined = state.val.at(-1)?.loss;
  let lastCkpt = existing ?? "";
  const checkpoint = async () => {
    state.loader = { ...loader.state };
    lastCkpt = await saveCheckpoint(ckptRoot, cfg, model, opt, state, o.keep);
    await writeFileAtomic(
      o.run.path("plots", `${stage}-loss.svg`),
      plotLoss(state, `${stage}: loss`),
    );
    log("checkpoint", { step: state.step, path: lastCkpt });
  };
  const runEval = () => {
    if (!o.val || o.val.rows === 0) return;
    const v = maskedLoss(model, o.val, o.batchSize);
    state.val.push({ step: state.step, loss: v, bpb: Number.NaN });
    finalVal = v;
    log("val", { step: state.step, loss: v });
    print(`step ${state.step}: val loss ${v.toFixed(4)} (assistant tokens)`);
  };
  if (state.step === 0 && o.evalEvery > 0) runEval();

  while (state.step < o.steps) {
    if (o.stopAfter !== undefined && stepsThisRun >= o.stopAfter) break;
    const t0 = performance.now();
    const lr = sched(state.step);
    opt.lr = lr;
    const { x, y } = loader.next();
    let trained = 0;
    for (let i = 0; i < y.length; i++) if (y[i]! >= 0) trained++;
    let loss = 0;
    if (trained > 0) {
      scope(() => {
        const l = model.loss(x, y, o.batchSize, T, true);
        loss = l.item();
        backward(l);
      });
    }
    if (!Number.isFinite(loss)) {
      throw new UserError(`the loss became ${loss} at step ${state.step}`, "lower --lr");
    }
    const norm = clipGradNorm(model.params, o.clip);
    opt.step();
    opt.zeroGrad();
    const dt = (performance.now() - t0) / 1000;
    state.step++;
    stepsThisRun++;
    state.tokensSeen += trained;
    state.seconds += dt;
    state.history.push({ step: state.step, loss, lr });
    const ts = tokensPerStep / dt;
    const tt = trained / dt;
    tokSec = tokSec === 0 ? ts : 0.9 * tokSec + 0.1 * ts;
    trainedSec = trainedSec === 0 ? tt : 0.9 * trainedSec + 0.1 * tt;
    log("step", { step: state.step, loss, lr, gradNorm: norm, seconds: dt, trained });
    progress.update(
      state.step,
      `loss ${loss.toFixed(3)}  lr ${lr.toExponential(2)}  ${formatCount(tokSec)} tok/s (${formatCount(trainedSec)} trained)`,
    );
    const last = state.step === o.steps;
    if (o.evalEvery > 0 && (state.step % o.evalEvery === 0 || last)) runEval();
    if (last || (o.checkpointEvery > 0 && state.step % o.checkpointEvery === 0)) await checkpoint();
  }
  progress.finish();
  if (
    state.step < o.steps &&
    stepsThisRun > 0 &&
    lastCkpt !== `${ckptRoot}/${checkpointName(state.step)}`
  ) {
    await checkpoint();
  }
  return {
    state,
    params,
    tokensPerSecond: tokSec,
    trainedTokensPerSecond: trainedSec,
    trainedTokens: state.tokensSeen,
    finalVal,
    checkpoint: lastCkpt,
  };
}
