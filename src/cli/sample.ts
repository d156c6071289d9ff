/** `chatforge sample`: continue a prompt with a trained model, token by token. */
import { readFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { generate, generateBatch } from "../infer/generate.js";
import { openForGeneration } from "../infer/load.js";
import { Tokenizer } from "../tokenizer/tokenizer.js";
import { UserError } from "../util/errors.js";
import { RunDir } from "../util/run-dir.js";
import { collect, positiveInt } from "./args.js";
import { addComputeOptions, setupCompute } from "./compute.js";
import { addSamplingOptions, samplingFrom } from "./sampling-options.js";

/** The most continuations decoded together (each one's KV cache takes memory). */
const MAX_BATCH = 16;

export function registerSample(program: Command): void {
  const cmd = program
    .command("sample")
    .summary("generate text from a checkpoint (temperature, top-k/p, few-shot, --show-probs)")
    .description(
      "Generate text from a checkpoint (KV cache, streaming). A base model continues documents: " +
        "give it the start of one. Few-shot prompting: --few-shot FILE puts examples before the " +
        "prompt (e.g. lines 'english: cheese => french: fromage', then the prompt " +
        "'english: bread => french:'), and stops at the end of the line by default.",
    )
    .option("-r, --run <name>", "run name", "default")
    .option(
      "--checkpoint <dir>",
      "checkpoint folder, or a checkpoints/<stage> folder for its latest (default: runs/<run>/checkpoints/pretrain)",
    )
    .option("--tokenizer <dir>", "tokenizer (default: runs/<run>/tokenizer)")
    .option("-p, --prompt <text>", "the text to continue", "")
    .option("--prompt-file <file>", "read the prompt from a file")
    .option("--few-shot <file>", "examples to put before the prompt")
    .addOption(
      new Option("-n, --max-tokens <n>", "new tokens at most")
        .default(128)
        .argParser(positiveInt("--max-tokens")),
    )
    .option("--stop <text>", "stop when this text is generated (repeatable)", collect, [])
    .addOption(
      new Option(
        "--samples <n>",
        "how many continuations (up to 16 at a time are decoded together, as one batch)",
      )
        .default(1)
        .argParser(positiveInt("--samples")),
    )
    .addOption(
      new Option(
        "--show-probs [k]",
        "print the top-k next-token probabilities at each step",
      ).argParser(positiveInt("--show-probs")),
    )
    .action(async (o) => {
      await setupCompute(o, false, "decode");
      const run = new RunDir(o.run);
      const tok = await Tokenizer.load(o.tokenizer ?? run.path("tokenizer"));
      const k = o.showProbs === true ? 5 : (o.showProbs as number | undefined);
      // several samples without --show-probs are decoded as batches (printed when done)
      const batch = k ? 1 : Math.min(o.samples, MAX_BATCH);
      const { ckpt, decoder } = await openForGeneration(
        o.checkpoint ?? run.path("checkpoints", "pretrain"),
        tok,
        batch,
      );
      let prompt: string = o.prompt;
      if (o.promptFile) prompt = (await readFile(o.promptFile, "utf8")) + prompt;
      const stops: string[] = [...o.stop];
      if (o.fewShot) {
        const examples = await readFile(o.fewShot, "utf8");
        prompt = `${examples.replace(/\s+$/, "")}\n${prompt}`;
        if (!stops.length) stops.push("\n\n", "\n");
      }
      const eot = tok.specialTokenId("<|endoftext|>");
      // a base model saw <|endoftext|> before every document: start there
      const ids = [eot, ...tok.encodeOrdinary(prompt)];
      if (ids.length >= ckpt.modelConfig.nCtx) {
        throw new UserError(
          `the prompt is ${ids.length} tokens; the model's context is ${ckpt.modelConfig.nCtx}`,
          "shorten the prompt or the few-shot examples",
        );
      }
      const show = (s: string) => JSON.stringify(s).slice(1, -1);
      const sampling = {
        maxNewTokens: Math.min(o.maxTokens, ckpt.modelConfig.nCtx - ids.length),
        ...samplingFrom(o),
        stopStrings: stops,
        stopTokens: [eot],
      };
      if (batch > 1) {
        for (let i0 = 0; i0 < o.samples; i0 += batch) {
          const n = Math.min(batch, o.samples - i0);
          const gens = generateBatch(decoder, tok, ids, { ...sampling, seed: o.seed + i0 }, n);
          for (const [j, g] of gens.entries()) {
            process.stdout.write(`--- sample ${i0 + j + 1} ---\n${prompt}${g.text}\n`);
            process.stdout.write(`[${g.tokens.length} tokens, stopped by ${g.stop}]\n`);
          }
        }
        return;
      }
      for (let i = 0; i < o.samples; i++) {
        if (o.samples > 1) process.stdout.write(`--- sample ${i + 1} ---\n`);
        if (!k) process.stdout.write(prompt);
        const g = generate(decoder, tok, ids, {
          ...sampling,
          seed: o.seed + i,
          showProbsK: k,
          onText: k ? undefined : (t) => process.stdout.write(t),
          onProbs: k
            ? (step, top, chosen) => {
                const cells = top.map(
                  (t) =>
                    `${show(tok.decode([t.id])).padStart(12)} ${(100 * t.prob).toFixed(1).padStart(5)}%`,
                );
                process.stdout.write(
                  `${String(step).padStart(4)}  ${cells.join("  ")}   → ${show(tok.decode([chosen]))}\n`,
                );
              }
            : undefined,
        });
        if (k) process.stdout.write(`\n${prompt}${g.text}\n`);
        process.stdout.write(`\n[${g.tokens.length} tokens, stopped by ${g.stop}]\n`);
      }
    });
  addSamplingOptions(cmd, { temperature: 0.8 });
  addComputeOptions(cmd);
}
