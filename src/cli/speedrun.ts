/** `chatforge speedrun`: raw corpus to a sampling base model, every stage, one command. */
import { type Command, Option } from "commander";
import { SFT_MINUTES, speedrun } from "../speedrun/speedrun.js";
import { PRESETS } from "../train/presets.js";
import { formatDuration } from "../util/progress.js";
import { RunDir } from "../util/run-dir.js";
import { collect, numberIn, positiveInt } from "./args.js";
import { addComputeOptions, setupCompute } from "./compute.js";

export function registerSpeedrun(program: Command): void {
  const cmd = program
    .command("speedrun")
    .summary(
      "every stage end to end: corpus → data → tokenizer → shards → pretraining → search index → SFT → eval → report",
    )
    .description(
      "Runs the whole pipeline into runs/<run>/ and writes runs/<run>/report.md:\n" +
        "  corpus build → data run → tokenizer train → data tokenize → train → samples → sft → " +
        "eval (the chat model on the tasks' held-out test splits). " +
        "Stages already complete are reused, and training resumes from its last checkpoint, so an " +
        "interrupted speedrun is continued by running the same command again.",
    )
    .option("-r, --run <name>", "run name", "speedrun")
    .addOption(
      new Option("--preset <name>", "model size").choices(Object.keys(PRESETS)).default("tiny"),
    )
    .addOption(
      new Option("--family <name>", "model family").choices(["gpt2", "llama"]).default("gpt2"),
    )
    .addOption(
      new Option("--minutes <m>", "training time budget: the step count is measured to fit it")
        .default(15)
        .argParser(numberIn("--minutes", 0.1, 10000)),
    )
    .addOption(
      new Option("--steps <n>", "training steps (overrides --minutes)").argParser(
        positiveInt("--steps"),
      ),
    )
    .addOption(
      new Option("--vocab-size <n>", "tokenizer vocabulary")
        .default(8192)
        .argParser(positiveInt("--vocab-size")),
    )
    .addOption(
      new Option(
        "--limit <n>",
        "at most n documents per packaged dataset (quick checks)",
      ).argParser(positiveInt("--limit")),
    )
    .addOption(
      new Option("--sft-minutes <m>", "SFT time budget: the step count is measured to fit it")
        .default(SFT_MINUTES)
        .argParser(numberIn("--sft-minutes", 0.05, 10000)),
    )
    .addOption(
      new Option("--sft-steps <n>", "SFT steps (overrides --sft-minutes)").argParser(
        positiveInt("--sft-steps"),
      ),
    )
    .addOption(
      new Option("--eval-limit <n>", "at most n test examples per task (quick checks)").argParser(
        positiveInt("--eval-limit"),
      ),
    )
    .option("--prompt <text>", "sample prompts (repeatable)", collect, [])
    .option("-q, --quiet", "no progress bars", false)
    .action(async (o) => {
      await setupCompute(o);
      const r = await speedrun({
        run: new RunDir(o.run),
        preset: o.preset,
        family: o.family,
        steps: o.steps,
        minutes: o.minutes,
        vocabSize: o.vocabSize,
        limitPerSource: o.limit,
        prompts: (o.prompt as string[]).length
          ? o.prompt
          : ["The President said that", "Call me Ishmael. Some years ago", "The whale"],
        sftMinutes: o.sftMinutes,
        sftSteps: o.sftSteps,
        evalLimit: o.evalLimit,
        quiet: o.quiet,
      });
      const total = r.timings.reduce((a, t) => a + t.seconds, 0);
      const v = r.train.finalVal;
      process.stdout.write(
        `\nspeedrun done in ${formatDuration(total)}${v ? `: val loss ${v.loss.toFixed(3)}, ${v.bpb.toFixed(3)} bits/byte` : ""}\n` +
          `chat model on held-out tests: ${r.chatEval.tasks.map((t) => `${t.task} ${(100 * t.accuracy).toFixed(1)}%`).join(", ")}; ${(100 * r.chatEval.ended.fraction).toFixed(1)}% of replies closed with <|im_end|>\n` +
          `report: ${r.reportPath}\nchat with it: node bin/chatforge.js chat --run ${o.run}\n`,
      );
    });
  addComputeOptions(cmd);
}
