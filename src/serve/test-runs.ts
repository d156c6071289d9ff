/**
 * For the server's tests: a temp runs folder with one run `t` — a tokenizer trained on a line of
 * text and two random GPT-2 checkpoints, stages `sft` and `pretrain` (the tests are about the
 * server, not the replies).
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createModel } from "../model/factory.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { trainTokenizer } from "../tokenizer/train.js";
import { freshTrainerState, saveCheckpoint } from "../train/checkpoint.js";

export interface TestRuns {
  /** The runs root (remove it after the tests). */
  root: string;
  tok: Tokenizer;
  cfg: ModelConfig;
}

export async function makeTestRuns(o: {
  prefix: string;
  text: string;
  nCtx: number;
  /** The checkpoints' model (default: random); it may look at the run's tokenizer. */
  model?: (cfg: ModelConfig, seed: number, tok: Tokenizer) => ReturnType<typeof createModel>;
}): Promise<TestRuns> {
  const root = await mkdtemp(join(tmpdir(), o.prefix));
  const text = join(root, "text.txt");
  await writeFile(text, o.text.repeat(50));
  const tok = await trainTokenizer({ inputs: [text], vocabSize: 300, quiet: true });
  await tok.save(join(root, "t", "tokenizer"));
  const cfg: ModelConfig = {
    family: "gpt2",
    vocabSize: tok.vocabSize,
    nCtx: o.nCtx,
    nEmbd: 32,
    nLayer: 2,
    nHead: 2,
    nInner: 128,
    eps: 1e-5,
  };
  const make = o.model ?? ((c, seed) => createModel(c, seed));
  for (const [stage, seed] of [
    ["sft", 1],
    ["pretrain", 2],
  ] as const)
    await saveCheckpoint(
      join(root, "t", "checkpoints", stage),
      cfg,
      make(cfg, seed, tok),
      null,
      freshTrainerState({}),
    );
  return { root, tok, cfg };
}
