/** `chatforge export`: a checkpoint (safetensors + config.json) + tokenizer → GGUF for llama.cpp. */
import { type Command, Option } from "commander";
import { exportCheckpointToGguf } from "../model/io/export.js";
import { TIKTOKEN_ENCODINGS, type TiktokenName, Tokenizer } from "../tokenizer/index.js";
import { formatBytes } from "../util/progress.js";
import { RunDir } from "../util/run-dir.js";

export function registerExport(program: Command): void {
  program
    .command("export")
    .summary("write a checkpoint as a GGUF file (llama.cpp, LM Studio, Ollama)")
    .description(
      "Convert a checkpoint folder (config.json + model.safetensors, HF layout) and its " +
        "tokenizer into one GGUF v3 file, then read the file back and check config, weights " +
        "and vocabulary. GPT-2 and Llama models; tokenizers with GPT-2's or GPT-4's split pattern.",
    )
    .option("-r, --run <name>", "run name: defaults below are under runs/<name>/", "default")
    .option(
      "--stage <name>",
      "checkpoint stage (default checkpoint: runs/<run>/checkpoints/<stage>)",
      "pretrain",
    )
    .option("--checkpoint <dir>", "checkpoint folder, or a stage folder with a `latest` file")
    .option(
      "--tokenizer <dir|name>",
      `tokenizer folder, or a tiktoken encoding (${Object.keys(TIKTOKEN_ENCODINGS).join(", ")}) (default: runs/<run>/tokenizer)`,
    )
    .option("-o, --out <file>", "output file (default: runs/<run>/export/<stage>-<dtype>.gguf)")
    .addOption(
      new Option("--dtype <type>", "weight type of 2-D tensors")
        .choices(["f16", "f32"])
        .default("f16"),
    )
    .option("--name <text>", "model name stored in general.name", "chatforge")
    .action(async (o) => {
      const run = new RunDir(o.run);
      const tokArg = (o.tokenizer as string | undefined) ?? run.path("tokenizer");
      const tokenizer =
        tokArg in TIKTOKEN_ENCODINGS
          ? Tokenizer.fromTiktoken(tokArg as TiktokenName)
          : await Tokenizer.load(tokArg);
      const out = (o.out as string | undefined) ?? run.path("export", `${o.stage}-${o.dtype}.gguf`);
      const log = run.log("export");
      log.start({ ...o, out });
      const r = await exportCheckpointToGguf({
        checkpoint: (o.checkpoint as string | undefined) ?? run.path("checkpoints", o.stage),
        tokenizer,
        out,
        dtype: o.dtype,
        name: o.name,
      });
      log.end({ ...r });
      process.stdout.write(
        `wrote ${r.out} (${formatBytes(r.bytes)}): ${r.family}, ${r.params.toLocaleString("en-US")} parameters in ` +
          `${r.tensors} tensors, ${r.dtype}, vocabulary ${tokenizer.vocabSize}\n` +
          `back-check passed (max weight rounding ${r.maxWeightError.toExponential(2)}) from ${r.checkpoint}\n`,
      );
    });
}
