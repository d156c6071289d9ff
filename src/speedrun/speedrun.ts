/**
 * The speedrun: every stage from raw corpus to a sampling base model, in order, in one run
 * directory, then a report. Each stage is skipped when its output is already complete, so an
 * interrupted speedrun continues where it stopped (training resumes from its checkpoint).
 *
 *   corpus build → data run → tokenizer train → data tokenize → train → samples
 *     → search index → sft → eval (the tasks' test splits, with the code and search tools)
 *     → report.md
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { buildCorpus, type CorpusSummary } from "../corpus/index.js";
import { defaultDataConfig } from "../data/config.js";
import { runLocal } from "../data/executor.js";
import type { Funnel } from "../data/pipeline.js";
import { type TokenizeSummary, tokenizeData } from "../data/tokenize.js";
import { type ChatEval, evalChatModel } from "../eval/chat-eval.js";
import { identityFacts, runTaskContext } from "../post/run-context.js";
import { type SftResult, sft } from "../post/sft.js";
import { buildSftData } from "../post/sft-data.js";
import { buildSearchIndex, loadRunIndex, runIndexDir } from "../search/index.js";
import { TASKS, type TaskContext } from "../tasks/index.js";
import { DEFAULT_MIXTURE_WEIGHTS } from "../tasks/mixture.js";
import { describeBackend } from "../tensor/backend.js";
import {
  listInputFiles,
  readDocuments,
  type TrainStats,
  trainTokenizerWithStats,
} from "../tokenizer/index.js";
import { type CompressionRow, compressionReport } from "../tokenizer/report.js";
import { Tokenizer } from "../tokenizer/tokenizer.js";
import { createCodeTool } from "../tools/code.js";
import { hasSearchIndex } from "../tools/for-run.js";
import { createSearchTool } from "../tools/search.js";
import { loadCheckpoint } from "../train/checkpoint.js";
import { measureTrainThroughput } from "../train/mfu.js";
import { type Family, modelConfig, preset } from "../train/presets.js";
import { type TrainResult, train } from "../train/trainer.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import type { RunDir } from "../util/run-dir.js";
import { versions } from "../util/versions.js";
import { knowledgePlot, type StageTiming, speedrunReport } from "./report.js";

export interface SpeedrunOptions {
  run: RunDir;
  preset: string;
  family: Family;
  /** Training steps (default: as many as fit in `minutes` on this machine, measured). */
  steps?: number;
  /** Training time budget in minutes, used when `steps` is not given. */
  minutes: number;
  vocabSize: number;
  /** At most this many documents per packaged dataset (quick checks). */
  limitPerSource?: number;
  prompts: string[];
  /** SFT: time budget in minutes (default 3), or a fixed step count; task conversations. */
  sftMinutes?: number;
  sftSteps?: number;
  sftExamples?: number;
  /** At most this many test examples per task in the evaluation (default: all). */
  evalLimit?: number;
  quiet?: boolean;
  print?: (line: string) => void;
}

export const SFT_MINUTES = 6;
const SFT_EXAMPLES = 18_000;

/** Bounds for the measured step count of a time-boxed speedrun. */
const MIN_STEPS = 100;
const MAX_STEPS = 5000;

export interface SpeedrunResult {
  reportPath: string;
  timings: StageTiming[];
  train: TrainResult;
  sft: SftResult;
  chatEval: ChatEval;
}

export async function speedrun(o: SpeedrunOptions): Promise<SpeedrunResult> {
  const print = o.print ?? ((l: string) => process.stderr.write(`${l}\n`));
  const run = o.run;
  const timings: StageTiming[] = [];
  // stage times survive reruns, so the report shows what each stage cost when it really ran
  const timesPath = run.path("speedrun-times.json");
  let previous: Record<string, number> = {};
  try {
    previous = JSON.parse(readFileSync(timesPath, "utf8"));
  } catch {
    // first run
  }
  const stage = async <T>(name: string, done: boolean, fn: () => Promise<T>): Promise<T> => {
    print(`\n== ${name}${done ? " (already done: reusing)" : ""}`);
    const t0 = performance.now();
    const r = await fn();
    const seconds = (performance.now() - t0) / 1000;
    const reused = done && previous[name] !== undefined;
    if (!reused) previous[name] = seconds;
    timings.push({ name, seconds: previous[name]!, reused });
    await writeJsonAtomic(timesPath, previous);
    return r;
  };
  const log = run.log("speedrun");
  log.start({ ...o, run: run.name, print: undefined });

  // 1. corpus
  const corpusDir = run.path("corpus");
  const corpus: CorpusSummary = await stage(
    "corpus",
    existsSync(join(corpusDir, "summary.json")),
    () =>
      buildCorpus({
        outDir: corpusDir,
        packaged: ["sotu", "moby-dick", "spam-assassin", "knowledge"],
        htmlDirs: [],
        warcs: [],
        jsonls: [],
        files: 4,
        limitPerSource: o.limitPerSource,
        quiet: o.quiet,
      }),
  );

  // 2. data pipeline
  const dataDir = run.path("data");
  const funnel: Funnel = await stage("data", existsSync(join(dataDir, "funnel.json")), async () => {
    const inputs = corpus.files.map((f) => join(corpusDir, f.name));
    return runLocal(defaultDataConfig(inputs, dataDir, inputs.length), { quiet: o.quiet });
  });
  const clean = readdirSync(dataDir)
    .filter((n) => /^clean-\d+\.jsonl\.gz$/.test(n))
    .sort()
    .map((n) => join(dataDir, n));
  if (clean.length === 0) throw new UserError(`the data pipeline kept no documents (${dataDir})`);

  // 3. tokenizer: trained on all clean files but the last, which is held out for the report
  const tokDir = run.path("tokenizer");
  const trainFiles = clean.length > 1 ? clean.slice(0, -1) : clean;
  const heldOut = clean.length > 1 ? clean.slice(-1) : [];
  let tokStats: TrainStats | undefined;
  const tok: Tokenizer = await stage(
    "tokenizer",
    existsSync(join(tokDir, "tokenizer-config.json")),
    async () => {
      if (existsSync(join(tokDir, "tokenizer-config.json"))) return Tokenizer.load(tokDir);
      const r = await trainTokenizerWithStats({
        inputs: trainFiles,
        vocabSize: o.vocabSize,
        name: `${run.name}-${o.vocabSize}`,
        quiet: o.quiet,
      });
      await r.tokenizer.save(tokDir);
      tokStats = r.stats;
      return r.tokenizer;
    },
  );
  const heldOutTexts: string[] = [];
  for (const f of await listInputFiles(heldOut))
    for await (const d of readDocuments(f)) heldOutTexts.push(d);
  const compression: CompressionRow[] = heldOutTexts.length
    ? compressionReport(
        [tok, Tokenizer.fromTiktoken("r50k_base"), Tokenizer.fromTiktoken("cl100k_base")],
        heldOutTexts,
      )
    : [];

  // 4. shards
  const shardsDir = run.path("shards");
  const shardSummaryPath = join(shardsDir, "summary.json");
  const shards: TokenizeSummary = await stage(
    "tokenize",
    existsSync(shardSummaryPath),
    async () => {
      if (existsSync(shardSummaryPath)) {
        const { readFile } = await import("node:fs/promises");
        return JSON.parse(await readFile(shardSummaryPath, "utf8")) as TokenizeSummary;
      }
      const s = await tokenizeData({
        dataDir,
        outDir: shardsDir,
        tokenizer: tokDir,
        valFraction: 0.02,
        shardTokens: 10_000_000,
        workers: availableParallelism(),
        quiet: o.quiet,
      });
      await writeJsonAtomic(shardSummaryPath, s);
      return s;
    },
  );

  // 5. pretraining
  const p = preset(o.preset);
  const cfg = modelConfig(o.family, p, tok.vocabSize, tok.specialTokenId("<|endoftext|>"));
  // The step count is fixed when training first starts (the schedule depends on it) and kept
  // in speedrun-plan.json, so a resumed speedrun trains to the same end.
  const planPath = run.path("speedrun-plan.json");
  let plan: { steps: number; tokensPerSecond?: number } | undefined;
  try {
    plan = JSON.parse(readFileSync(planPath, "utf8"));
  } catch {
    plan = undefined;
  }
  if (o.steps !== undefined) plan = { steps: o.steps };
  else if (!plan) {
    const tps = measureTrainThroughput(cfg, p.batchSize, p.nCtx);
    const fit = Math.floor((o.minutes * 60 * tps * 0.9) / (p.batchSize * p.nCtx));
    plan = { steps: Math.max(MIN_STEPS, Math.min(MAX_STEPS, fit)), tokensPerSecond: tps };
    print(
      `measured ${Math.round(tps)} training tokens/s: ${plan.steps} steps fit in ${o.minutes} minutes`,
    );
  }
  await writeJsonAtomic(planPath, plan);
  const steps = plan.steps;
  const ckptRoot = run.path("checkpoints", "pretrain");
  const trained = await stage("train", false, () =>
    train({
      run,
      stage: "pretrain",
      shardsDir,
      tokenizer: tok,
      modelConfig: cfg,
      batchSize: p.batchSize,
      seqLen: p.nCtx,
      gradAccum: 1,
      steps,
      lr: p.lr,
      warmup: Math.min(100, Math.floor(steps / 10)),
      schedule: "cosine",
      minLrRatio: 0.1,
      weightDecay: 0.1,
      clip: 1,
      evalEvery: Math.max(50, Math.floor(steps / 10)),
      evalBatches: 8,
      sampleEvery: Math.max(100, Math.floor(steps / 3)),
      samplePrompts: o.prompts,
      sampleTokens: 64,
      checkpointEvery: Math.max(50, Math.floor(steps / 10)),
      keep: 2,
      seed: 1337,
      resume: existsSync(ckptRoot),
      overwrite: false,
      quiet: o.quiet,
      print,
      log: (event, fields) => log.write(`train.${event}`, fields),
    }),
  );

  // 6. the search index over the clean corpus and the knowledge base, then the tools
  const index = await stage("index", hasSearchIndex(run), async () =>
    hasSearchIndex(run)
      ? loadRunIndex(run)
      : buildSearchIndex({ dataDir, outDir: runIndexDir(run), run: run.name, quiet: o.quiet }),
  );
  const searchTool = createSearchTool(index, tok);
  const codeTool = await createCodeTool();

  // 7. SFT: the base model becomes a chat model, then the tasks' test splits measure it
  const base = await loadCheckpoint(trained.checkpoint);
  const ctx: TaskContext = {
    ...runTaskContext(run, identityFacts(run, cfg, trained.params, base.state), 1),
    search: (q) => searchTool.run(q).output,
  };
  const sftData = await buildSftData({
    tok,
    T: cfg.nCtx,
    mixture: { ...DEFAULT_MIXTURE_WEIGHTS },
    examples: o.sftExamples ?? SFT_EXAMPLES,
    valExamples: 400,
    ctx,
    files: [],
  });
  // as many steps as fit the SFT budget at the measured training speed (same model, same rows)
  const sftSteps =
    o.sftSteps ??
    Math.max(
      50,
      Math.floor(
        ((o.sftMinutes ?? SFT_MINUTES) * 60 * (plan.tokensPerSecond ?? 10_000) * 0.9) /
          (p.batchSize * cfg.nCtx),
      ),
    );
  const sftRoot = run.path("checkpoints", "sft");
  const tuned = await stage("sft", false, () =>
    sft({
      run,
      from: trained.checkpoint,
      train: sftData.train,
      val: sftData.val,
      dataHash: sftData.hash,
      batchSize: p.batchSize,
      steps: sftSteps,
      lr: p.lr,
      warmup: Math.min(20, Math.floor(sftSteps / 10)),
      schedule: "linear",
      minLrRatio: 0,
      weightDecay: 0,
      clip: 1,
      evalEvery: Math.max(25, Math.floor(sftSteps / 10)),
      checkpointEvery: Math.max(50, Math.floor(sftSteps / 5)),
      keep: 2,
      seed: 1,
      resume: existsSync(sftRoot),
      overwrite: false,
      quiet: o.quiet,
      print,
      log: (event, fields) => log.write(`sft.${event}`, fields),
    }),
  );
  const chatEval = await stage("eval", false, () =>
    evalChatModel({
      run,
      stage: "sft",
      checkpoint: tuned.checkpoint,
      tok,
      ctx,
      tasks: TASKS,
      limit: o.evalLimit,
      quiet: o.quiet,
      tools: [codeTool, searchTool],
    }),
  );
  codeTool.dispose?.();
  await writeFileAtomic(run.path("plots", "knowledge-by-mentions.svg"), knowledgePlot(chatEval));

  // 8. report
  const reportPath = run.path("report.md");
  await writeFileAtomic(
    reportPath,
    speedrunReport({
      runName: run.name,
      root: run.root,
      machine: { ...versions(), backend: describeBackend() },
      timings,
      corpus,
      funnel,
      tokenizer: {
        vocabSize: tok.vocabSize,
        stats: tokStats,
        compression,
        heldOutFiles: heldOut.length,
      },
      shards,
      train: trained,
      sft: { result: tuned, data: sftData, mixture: { ...DEFAULT_MIXTURE_WEIGHTS } },
      chatEval,
      index: index.meta,
      presetName: `${o.family} ${o.preset}`,
    }),
  );
  log.end({ timings, val: trained.finalVal, sftVal: tuned.finalVal });
  return { reportPath, timings, train: trained, sft: tuned, chatEval };
}
