/** `chatforge train`: pretrain a GPT on token shards (next-token prediction). */
import { type Command, Option } from "commander";
import { setCheckFinite } from "../tensor/tensor.js";
import { Tokenizer } from "../tokenizer/tokenizer.js";
import { type Family, modelConfig, PRESETS, preset } from "../train/presets.js";
import { type ScheduleKind, train } from "../train/trainer.js";
import { formatCount } from "../util/progress.js";
import { RunDir } from "../util/run-dir.js";
import { collect, nonNegativeInt, numberIn, positiveInt } from "./args.js";
import { addComputeOptions, setupCompute } from "./compute.js";

export function registerTrain(program: Command): void {
  const cmd = program
    .command("train")
    .summary("pretrain a base model on token shards (next-token prediction)")
    .description(
      "Pretrain a base model by next-token prediction on runs/<run>/shards/{train,val}_*.bin. " +
        "Prints loss, learning rate, tokens/s and MFU; evaluates validation loss and bits per byte; " +
        "prints samples; writes checkpoints (safetensors + config.json, HF layout) to " +
        "runs/<run>/checkpoints/<stage>/ and a loss curve to runs/<run>/plots/<stage>-loss.svg. " +
        "After a crash or kill, rerun with --resume to continue exactly where it stopped.",
    )
    .option("-r, --run <name>", "run name: reads and writes runs/<name>/", "default")
    .option("--stage <name>", "checkpoint and log name", "pretrain")
    .option("--shards <dir>", "token shards (default: runs/<run>/shards)")
    .option(
      "--tokenizer <dir>",
      "tokenizer the shards were made with (default: runs/<run>/tokenizer)",
    )
    .addOption(
      new Option("--preset <name>", "model size").choices(Object.keys(PRESETS)).default("tiny"),
    )
    .addOption(
      new Option(
        "--family <name>",
        "gpt2 (LayerNorm, GELU, learned positions, tied head) or llama (RMSNorm, SwiGLU, RoPE, GQA)",
      )
        .choices(["gpt2", "llama"])
        .default("gpt2"),
    )
    .addOption(
      new Option("--n-embd <n>", "override the preset's width").argParser(positiveInt("--n-embd")),
    )
    .addOption(
      new Option("--n-layer <n>", "override the preset's depth").argParser(
        positiveInt("--n-layer"),
      ),
    )
    .addOption(
      new Option("--n-head <n>", "override the preset's heads").argParser(positiveInt("--n-head")),
    )
    .addOption(
      new Option("--ctx <n>", "override the preset's context length").argParser(
        positiveInt("--ctx"),
      ),
    )
    .addOption(
      new Option("--batch-size <n>", "sequences per micro-batch (default: the preset's)").argParser(
        positiveInt("--batch-size"),
      ),
    )
    .addOption(
      new Option("--grad-accum <n>", "micro-batches per optimizer step")
        .default(1)
        .argParser(positiveInt("--grad-accum")),
    )
    .addOption(
      new Option("--steps <n>", "optimizer steps").default(1000).argParser(positiveInt("--steps")),
    )
    .addOption(
      new Option("--lr <x>", "peak learning rate (default: the preset's)").argParser(
        numberIn("--lr", 0, 1),
      ),
    )
    .addOption(
      new Option("--warmup <n>", "linear warm-up steps")
        .default(50)
        .argParser(nonNegativeInt("--warmup")),
    )
    .addOption(
      new Option("--schedule <kind>", "learning-rate schedule after warm-up")
        .choices(["cosine", "linear", "constant", "constant-decay"])
        .default("cosine"),
    )
    .addOption(
      new Option("--min-lr-ratio <x>", "final learning rate as a fraction of the peak")
        .default(0.1)
        .argParser(numberIn("--min-lr-ratio", 0, 1)),
    )
    .addOption(
      new Option("--weight-decay <x>", "AdamW decoupled weight decay (not on norms and biases)")
        .default(0.1)
        .argParser(numberIn("--weight-decay", 0, 10)),
    )
    .addOption(
      new Option("--clip <x>", "clip the global gradient norm to this")
        .default(1)
        .argParser(numberIn("--clip", 0, 1e9)),
    )
    .addOption(
      new Option("--eval-every <n>", "validation every n steps (0 = only at the end)")
        .default(100)
        .argParser(nonNegativeInt("--eval-every")),
    )
    .addOption(
      new Option("--eval-batches <n>", "validation batches per evaluation")
        .default(8)
        .argParser(positiveInt("--eval-batches")),
    )
    .addOption(
      new Option("--sample-every <n>", "print samples every n steps (0 = only at the end)")
        .default(200)
        .argParser(nonNegativeInt("--sample-every")),
    )
    .option("--prompt <text>", "prompt for the samples (repeatable)", collect, [])
    .addOption(
      new Option("--sample-tokens <n>", "tokens per sample")
        .default(48)
        .argParser(positiveInt("--sample-tokens")),
    )
    .addOption(
      new Option("--checkpoint-every <n>", "checkpoint every n steps (always at the end)")
        .default(200)
        .argParser(nonNegativeInt("--checkpoint-every")),
    )
    .addOption(
      new Option("--keep <n>", "checkpoints to keep").default(2).argParser(positiveInt("--keep")),
    )
    .addOption(
      new Option("--seed <n>", "initialisation and sampling seed")
        .default(1337)
        .argParser(nonNegativeInt("--seed")),
    )
    .option("--resume", "continue from the latest checkpoint of this run and stage", false)
    .option(
      "--check-finite",
      "check every op's output for NaN/Inf and name the first op that makes one (slower)",
      false,
    )
    .option("--overwrite", "start again even if checkpoints exist", false)
    .option("-q, --quiet", "no progress bar", false)
    .action(async (o) => {
      await setupCompute(o);
      if (o.checkFinite) setCheckFinite(true);
      const run = new RunDir(o.run);
      const tok = await Tokenizer.load(o.tokenizer ?? run.path("tokenizer"));
      const p = { ...preset(o.preset) };
      if (o.nEmbd) p.nEmbd = o.nEmbd;
      if (o.nLayer) p.nLayer = o.nLayer;
      if (o.nHead) p.nHead = o.nHead;
      if (o.ctx) p.nCtx = o.ctx;
      const cfg = modelConfig(
        o.family as Family,
        p,
        tok.vocabSize,
        tok.specialTokenId("<|endoftext|>"),
      );
      const log = run.log(o.stage);
      const opts = {
        stage: o.stage as string,
        shardsDir: (o.shards as string | undefined) ?? run.path("shards"),
        modelConfig: cfg,
        batchSize: (o.batchSize as number | undefined) ?? p.batchSize,
        seqLen: p.nCtx,
        gradAccum: o.gradAccum as number,
        steps: o.steps as number,
        lr: (o.lr as number | undefined) ?? p.lr,
        warmup: o.warmup as number,
        schedule: o.schedule as ScheduleKind,
        minLrRatio: o.minLrRatio as number,
        weightDecay: o.weightDecay as number,
        clip: o.clip as number,
        evalEvery: o.evalEvery as number,
        evalBatches: o.evalBatches as number,
        sampleEvery: o.sampleEvery as number,
        samplePrompts: (o.prompt as string[]).length
          ? (o.prompt as string[])
          : ["The", "In the year"],
        sampleTokens: o.sampleTokens as number,
        checkpointEvery: o.checkpointEvery as number,
        keep: o.keep as number,
        seed: o.seed as number,
        resume: Boolean(o.resume),
        overwrite: Boolean(o.overwrite),
      };
      log.start(opts);
      const r = await train({
        ...opts,
        run,
        tokenizer: tok,
        quiet: o.quiet,
        log: (event, fields) => log.write(event, fields),
      });
      log.end({
        step: r.state.step,
        tokensPerSecond: r.tokensPerSecond,
        mfu: r.mfu,
        val: r.finalVal,
      });
      const val = r.finalVal
        ? `, val loss ${r.finalVal.loss.toFixed(4)}, ${r.finalVal.bpb.toFixed(4)} bits/byte`
        : "";
      process.stdout.write(
        `trained to step ${r.state.step} (${formatCount(r.state.tokensSeen)} tokens, ${formatCount(r.tokensPerSecond)} tok/s, MFU ${(100 * r.mfu).toFixed(1)}%)${val}\ncheckpoint: ${r.checkpoint}\n`,
      );
    });
  addComputeOptions(cmd);
}
