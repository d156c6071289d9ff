/** `chatforge sft`: supervised fine-tuning of a pretrained checkpoint on conversations. */
import { type Command, Option } from "commander";
import { requireChatTokens } from "../infer/chat-session.js";
import { resolveCheckpoint } from "../infer/load.js";
import { identityFacts, runTaskContext } from "../post/run-context.js";
import { sft } from "../post/sft.js";
import { buildSftData } from "../post/sft-data.js";
import { DEFAULT_MIXTURE_WEIGHTS, parseMixtureWeights } from "../tasks/mixture.js";
import { Tokenizer } from "../tokenizer/tokenizer.js";
import { loadCheckpoint } from "../train/checkpoint.js";
import { UserError } from "../util/errors.js";
import { formatCount } from "../util/progress.js";
import { RunDir } from "../util/run-dir.js";
import { collect, nonNegativeInt, numberIn, positiveInt } from "./args.js";
import { addComputeOptions, setupCompute } from "./compute.js";

export function registerSft(program: Command): void {
  const cmd = program
    .command("sft")
    .summary("supervised fine-tuning on conversations: a base model becomes a chat model")
    .description(
      "Fine-tunes a pretrained checkpoint on conversations in the chat layout " +
        "(<|im_start|>role<|im_sep|>…<|im_end|>), with the loss on the assistant's tokens only. " +
        "The data is a mixture of the built-in tasks' train splits (identity, smalltalk, " +
        "knowledge-qa, spelling; weights with --mixture) and/or your own JSONL files " +
        '(--data, one {"messages": [{"role": …, "content": …}, …]} per line). Conversations ' +
        "are packed into rows of the model's context; the validation loss is on the tasks' val " +
        "splits. Checkpoints go to runs/<run>/checkpoints/sft/; --resume continues after a kill.",
    )
    .option("-r, --run <name>", "run name", "speedrun")
    .option(
      "--from <dir>",
      "the checkpoint to fine-tune (default: the latest of runs/<run>/checkpoints/pretrain)",
    )
    .option("--tokenizer <dir>", "tokenizer (default: runs/<run>/tokenizer)")
    .option("--stage <name>", "checkpoints/<stage> to write", "sft")
    .option("--data <file>", "a JSONL file of conversations to train on (repeatable)", collect, [])
    .option(
      "--mixture <spec>",
      `task weights, e.g. "identity=3,smalltalk=1" ("none" = only --data files)`,
      Object.entries(DEFAULT_MIXTURE_WEIGHTS)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    )
    .addOption(
      new Option("--examples <n>", "task conversations in the training mixture")
        .default(12000)
        .argParser(positiveInt("--examples")),
    )
    .addOption(
      new Option("--val-examples <n>", "task conversations for the validation loss")
        .default(400)
        .argParser(nonNegativeInt("--val-examples")),
    )
    .addOption(
      new Option(
        "--steps <n>",
        "optimizer steps (default: --epochs over the packed rows)",
      ).argParser(positiveInt("--steps")),
    )
    .addOption(
      new Option("--epochs <x>", "passes over the packed rows when --steps is not given")
        .default(2)
        .argParser(numberIn("--epochs", 0.01, 1000)),
    )
    .addOption(
      new Option("--batch-size <n>", "rows per step")
        .default(16)
        .argParser(positiveInt("--batch-size")),
    )
    .addOption(
      new Option("--lr <x>", "peak learning rate (linear decay to 0)")
        .default(3e-3)
        .argParser(numberIn("--lr", 0, 1)),
    )
    .addOption(
      new Option("--warmup <n>", "warm-up steps").default(20).argParser(nonNegativeInt("--warmup")),
    )
    .addOption(
      new Option("--eval-every <n>", "steps between validation losses (0 = only at the end)")
        .default(50)
        .argParser(nonNegativeInt("--eval-every")),
    )
    .addOption(
      new Option("--checkpoint-every <n>", "steps between checkpoints")
        .default(100)
        .argParser(positiveInt("--checkpoint-every")),
    )
    .addOption(
      new Option("--seed <n>", "data order and mixture seed")
        .default(1)
        .argParser(nonNegativeInt("--seed")),
    )
    .option("--resume", "continue from the latest checkpoint of this stage", false)
    .option("--overwrite", "start again, replacing this stage's checkpoints", false)
    .option("-q, --quiet", "no progress bars", false);
  addComputeOptions(cmd);
  cmd.action(async (o) => {
    await setupCompute(o);
    const run = new RunDir(o.run);
    const tokDir = o.tokenizer ?? run.path("tokenizer");
    const tok = await Tokenizer.load(tokDir);
    requireChatTokens(tok, tokDir);
    const from = await resolveCheckpoint(o.from ?? run.path("checkpoints", "pretrain"));
    const base = await loadCheckpoint(from);
    const mixture = o.mixture === "none" ? {} : parseMixtureWeights(o.mixture);
    if (!Object.keys(mixture).length && !o.data.length)
      throw new UserError(
        "--mixture none and no --data file: nothing to train on",
        "pass --data FILE.jsonl or a task mixture",
      );
    const ctx = runTaskContext(
      run,
      identityFacts(run, base.modelConfig, base.model.numParams(), base.state),
      o.seed,
    );
    const data = await buildSftData({
      tok,
      T: base.modelConfig.nCtx,
      mixture,
      examples: o.examples,
      valExamples: o.valExamples,
      ctx,
      files: o.data,
    });
    for (const [name, s] of Object.entries(data.sources))
      process.stderr.write(
        `data ${name}: ${s.conversations} conversations, ${formatCount(s.tokens)} tokens (${formatCount(s.trained)} trained on)\n`,
      );
    const log = run.log(o.stage);
    log.start({ ...o, sources: data.sources, rows: data.train.rows });
    const steps = o.steps ?? Math.max(1, Math.ceil((o.epochs * data.train.rows) / o.batchSize));
    const r = await sft({
      run,
      stage: o.stage,
      from,
      train: data.train,
      val: data.val,
      dataHash: data.hash,
      batchSize: o.batchSize,
      steps,
      lr: o.lr,
      warmup: Math.min(o.warmup, Math.floor(steps / 5)),
      schedule: "linear",
      minLrRatio: 0,
      weightDecay: 0,
      clip: 1,
      evalEvery: o.evalEvery,
      checkpointEvery: o.checkpointEvery,
      keep: 2,
      seed: o.seed,
      resume: o.resume,
      overwrite: o.overwrite,
      quiet: o.quiet,
      log: (event, fields) => log.write(`sft.${event}`, fields),
    });
    log.end({ steps: r.state.step, val: r.finalVal });
    process.stdout.write(
      `sft done: ${r.state.step} steps${r.finalVal !== undefined ? `, val loss ${r.finalVal.toFixed(3)}` : ""}; ${formatCount(r.trainedTokensPerSecond)} trained tokens/s\ncheckpoint: ${r.checkpoint}\nchat with it: chatforge chat --run ${run.name}\n`,
    );
  });
}
