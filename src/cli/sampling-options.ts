/** The sampling options `sample` and `chat` share, and the SamplingOptions they parse into. */
import { type Command, Option } from "commander";
import type { SamplingOptions } from "../infer/sampler.js";
import { nonNegativeInt, numberIn } from "./args.js";

export function addSamplingOptions(cmd: Command, defaults: { temperature: number }): Command {
  return cmd
    .addOption(
      new Option("-t, --temperature <x>", "0 = greedy; higher = more random")
        .default(defaults.temperature)
        .argParser(numberIn("--temperature", 0, 100)),
    )
    .addOption(
      new Option("--top-k <n>", "sample among the k most likely tokens (0 = off)")
        .default(0)
        .argParser(nonNegativeInt("--top-k")),
    )
    .addOption(
      new Option("--top-p <x>", "nucleus sampling mass (1 = off)")
        .default(1)
        .argParser(numberIn("--top-p", 1e-9, 1)),
    )
    .addOption(
      new Option("--min-p <x>", "drop tokens below min-p × the top probability (0 = off)")
        .default(0)
        .argParser(numberIn("--min-p", 0, 0.999)),
    )
    .addOption(
      new Option("--repetition-penalty <x>", "> 1 discourages repeating context tokens (1 = off)")
        .default(1)
        .argParser(numberIn("--repetition-penalty", 0.01, 100)),
    )
    .addOption(
      new Option("--seed <n>", "random seed (same seed, same text)")
        .default(1)
        .argParser(nonNegativeInt("--seed")),
    );
}

export function samplingFrom(o: Record<string, unknown>): SamplingOptions {
  return {
    temperature: o.temperature as number,
    topK: o.topK as number,
    topP: o.topP as number,
    minP: o.minP as number,
    repetitionPenalty: o.repetitionPenalty as number,
  };
}
