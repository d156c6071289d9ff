/**
 * Checkpoints: `checkpoints/<stage>/step-NNNNNN/` holds
 *   - `model.safetensors` + `config.json`: the model in the HF layout (loadable by HF
 *     transformers as GPT2LMHeadModel / LlamaForCausalLM, and by our export);
 *   - `optimizer.safetensors`: AdamW's first and second moments (`<param>.exp_avg`,
 *     `<param>.exp_avg_sq`, our layout) and its step count in the metadata;
 *   - `trainer.json`: step, data-loader position, loss history, run config.
 * A checkpoint is written into a temp folder and renamed into place, then `latest` (a one-line
 * file naming it) is replaced atomically; so a kill at any moment leaves the previous checkpoint
 * intact. Older checkpoints beyond `keep` are removed after the new one is complete.
 */
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { createModel, type LanguageModel, loadHfTensors, toHfTensors } from "../model/factory.js";
import { loadHfCheckpoint, saveHfCheckpoint } from "../model/io/checkpoint.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import { readSafetensors, toFloat32, writeSafetensors } from "../model/io/safetensors.js";
import type { AdamW } from "../tensor/optim.js";
import { isTempName, tempPathFor, writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import type { LoaderState } from "./loader.js";

export interface TrainerState {
  step: number;
  loader: LoaderState;
  tokensSeen: number;
  /** Seconds of training so far (across resumes). */
  seconds: number;
  history: { step: number; loss: number; lr: number }[];
  val: { step: number; loss: number; bpb: number }[];
  /** The training options, so `--resume` can refuse a changed run. */
  config: Record<string, unknown>;
}

/** The state of a run that has not taken a step yet. */
export function freshTrainerState(config: Record<string, unknown>): TrainerState {
  return {
    step: 0,
    loader: { shard: 0, pos: 0, epoch: 0 },
    tokensSeen: 0,
    seconds: 0,
    history: [],
    val: [],
    config,
  };
}

export interface Checkpoint {
  dir: string;
  modelConfig: ModelConfig;
  model: LanguageModel;
  state: TrainerState;
  /** Optimizer moments by parameter name, and the step count. */
  optimizer: { t: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> } | null;
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/** Writes a checkpoint folder atomically and updates `latest`; prunes old ones. */
export async function saveCheckpoint(
  root: string,
  modelConfig: ModelConfig,
  model: LanguageModel,
  opt: AdamW | null,
  state: TrainerState,
  keep = 2,
): Promise<string> {
  await mkdir(root, { recursive: true });
  const name = checkpointName(state.step);
  const final = join(root, name);
  const tmp = tempPathFor(final);
  await mkdir(tmp, { recursive: true });
  try {
    await saveHfCheckpoint(tmp, modelConfig, toHfTensors(modelConfig, model));
    if (opt) {
      const moments = new Map<string, { shape: number[]; data: Float32Array }>();
      for (const p of model.params) {
        const m = opt.m.get(p);
        const v = opt.v.get(p);
        if (!m || !v) continue;
        moments.set(`${p.name}.exp_avg`, { shape: [...p.shape], data: Float32Array.from(m) });
        moments.set(`${p.name}.exp_avg_sq`, { shape: [...p.shape], data: Float32Array.from(v) });
      }
      await writeSafetensors(join(tmp, "optimizer.safetensors"), moments, { step: String(opt.t) });
    }
    await writeJsonAtomic(join(tmp, "trainer.json"), state);
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await writeFileAtomic(join(root, "latest"), `${name}\n`);
  const all = await listCheckpoints(root);
  const drop = all.filter((n) => n !== name).slice(0, Math.max(0, all.length - Math.max(1, keep)));
  await Promise.all(drop.map((n) => rm(join(root, n), { recursive: true, force: true })));
  return final;
}

/** Finished checkpoint folder names, oldest first. Removes temp folders of killed writes. */
export async function listCheckpoints(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  await Promise.all(
    names.filter(isTempName).map((n) => rm(join(root, n), { recursive: true, force: true })),
  );
  return names.filter((n) => /^step-\d{6,}$/.test(n)).sort();
}

/** The folder `latest` points to, or undefined when there is no checkpoint. */
export async function latestCheckpoint(root: string): Promise<string | undefined> {
  try {
    const name = (await readFile(join(root, "latest"), "utf8")).trim();
    if (name && (await listCheckpoints(root)).includes(name)) return join(root, name);
  } catch {
    // fall through: no pointer
  }
  const all = await listCheckpoints(root);
  return all.length ? join(root, all.at(-1)!) : undefined;
}

/** Loads a checkpoint folder (model always; optimizer and trainer state when present). */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const hf = await loadHfCheckpoint(dir);
  const modelConfig = hf.config;
  const model = createModel(modelConfig);
  loadHfTensors(modelConfig, model, hf.weights, join(dir, "model.safetensors"));

  let state: TrainerState;
  try {
    state = JSON.parse(await readFile(join(dir, "trainer.json"), "utf8")) as TrainerState;
  } catch {
    state = freshTrainerState({}); // a model folder without trainer state (e.g. from HF)
  }
  let optimizer: Checkpoint["optimizer"] = null;
  try {
    const o = await readSafetensors(join(dir, "optimizer.safetensors"));
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const [k, t] of o.tensors) {
      if (k.endsWith(".exp_avg")) m.set(k.slice(0, -8), toFloat32(t));
      else if (k.endsWith(".exp_avg_sq")) v.set(k.slice(0, -11), toFloat32(t));
    }
    optimizer = { t: Number(o.metadata.step ?? 0), m, v };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  return { dir, modelConfig, model, state, optimizer };
}

/**
 * Where a training stage starts: the latest checkpoint under `root` when resuming (refused if it
 * was trained with other settings than `key`), nothing when starting fresh. Existing checkpoints
 * without `resume` or `overwrite` are an error, so a run is never silently restarted or mixed.
 */
export async function resumePoint(
  root: string,
  key: Record<string, unknown>,
  o: { resume: boolean; overwrite: boolean },
): Promise<Checkpoint | undefined> {
  const existing = await latestCheckpoint(root);
  if (!existing) return undefined;
  if (!o.resume && !o.overwrite) {
    throw new UserError(
      `${root} already has checkpoints`,
      "pass --resume to continue that run, or --overwrite to start again",
    );
  }
  if (!o.resume) return undefined;
  const saved = await loadCheckpoint(existing);
  if (JSON.stringify(saved.state.config) !== JSON.stringify(key)) {
    throw new UserError(
      `cannot resume ${existing}: its training settings or data differ from these`,
      `it was trained with ${JSON.stringify(saved.state.config)}; pass --overwrite to start again`,
    );
  }
  return saved;
}

/** Restores AdamW moments saved by `saveCheckpoint`. */
export function restoreOptimizer(
  opt: AdamW,
  model: LanguageModel,
  saved: NonNullable<Checkpoint["optimizer"]>,
  where: string,
): void {
  for (const p of model.params) {
    const m = saved.m.get(p.name);
    const v = saved.v.get(p.name);
    if (!m || !v || m.length !== p.size || v.length !== p.size) {
      throw new UserError(
        `${where}: optimizer state for ${p.name} is missing or has the wrong size`,
      );
    }
    opt.m.get(p)!.set(m);
    opt.v.get(p)!.set(v);
  }
  opt.t = saved.t;
}
