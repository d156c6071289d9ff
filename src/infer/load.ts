/** Opens a checkpoint for generation: the model, its KV-cache decoder, and checks the tokenizer. */
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { type Checkpoint, latestCheckpoint, loadCheckpoint } from "../train/checkpoint.js";
import { UserError } from "../util/errors.js";
import { createDecoder, type SlotDecoder } from "./decoder.js";

/** A checkpoint folder, or the latest one under a checkpoints/<stage> folder. */
export async function resolveCheckpoint(pathOrRoot: string): Promise<string> {
  const latest = await latestCheckpoint(pathOrRoot);
  if (latest) return latest;
  return pathOrRoot; // maybe a checkpoint folder itself; loadCheckpoint says if not
}

export async function openForGeneration(
  path: string,
  tok: Tokenizer,
  maxBatch = 1,
): Promise<{ ckpt: Checkpoint; decoder: SlotDecoder }> {
  const ckpt = await loadCheckpoint(await resolveCheckpoint(path));
  const cfg = ckpt.modelConfig;
  if (tok.vocabSize > cfg.vocabSize) {
    throw new UserError(
      `the tokenizer has ${tok.vocabSize} tokens but the model at ${ckpt.dir} only ${cfg.vocabSize}`,
      "pass the --tokenizer the model was trained with",
    );
  }
  return { ckpt, decoder: createDecoder(ckpt.model, cfg, maxBatch) };
}
