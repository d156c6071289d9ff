/**
 * Model sizes for a CPU. Parameter counts are for a vocabulary of 8,192 (the speedrun's
 * tokenizer); time budgets are for 2 cores with OpenBLAS.
 *
 * | preset | d   | layers | heads | ctx | params | batch × ctx | use                    |
 * |--------|-----|--------|-------|-----|--------|-------------|------------------------|
 * | tiny   | 128 | 4      | 4     | 256 | ~1.9M  | 16 × 256    | the speedrun: minutes  |
 * | small  | 256 | 6      | 8     | 256 | ~6.9M  | 16 × 256    | an hour: clearly better|
 * | medium | 384 | 8      | 6     | 512 | ~20M   | 8 × 512     | hours                  |
 */
import type { Gpt2ModelConfig, LlamaModelConfig, ModelConfig } from "../model/io/hf-config.js";
import { UserError } from "../util/errors.js";

export interface Preset {
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nCtx: number;
  batchSize: number;
  lr: number;
}

export const PRESETS: Record<string, Preset> = {
  tiny: { nEmbd: 128, nLayer: 4, nHead: 4, nCtx: 256, batchSize: 16, lr: 3e-3 },
  small: { nEmbd: 256, nLayer: 6, nHead: 8, nCtx: 256, batchSize: 16, lr: 1.5e-3 },
  medium: { nEmbd: 384, nLayer: 8, nHead: 6, nCtx: 512, batchSize: 8, lr: 1e-3 },
};

export function preset(name: string): Preset {
  const p = PRESETS[name];
  if (!p)
    throw new UserError(
      `unknown preset "${name}"`,
      `choose from: ${Object.keys(PRESETS).join(", ")}`,
    );
  return p;
}

/** A GPT-2 config for a preset and vocabulary size. */
export function gpt2Config(p: Preset, vocabSize: number, eosTokenId?: number): Gpt2ModelConfig {
  return {
    family: "gpt2",
    vocabSize,
    nCtx: p.nCtx,
    nEmbd: p.nEmbd,
    nLayer: p.nLayer,
    nHead: p.nHead,
    nInner: 4 * p.nEmbd,
    eps: 1e-5,
    bosTokenId: eosTokenId,
    eosTokenId,
  };
}

/**
 * A Llama config of about the same size as the GPT-2 preset: half as many key/value heads as
 * query heads (grouped-query attention) and a SwiGLU hidden size of ⅔·4d rounded to 32, which
 * keeps the MLP's parameter count equal to GPT-2's 4d MLP.
 */
export function llamaConfig(p: Preset, vocabSize: number, eosTokenId?: number): LlamaModelConfig {
  return {
    family: "llama",
    vocabSize,
    nCtx: p.nCtx,
    nEmbd: p.nEmbd,
    nLayer: p.nLayer,
    nHead: p.nHead,
    nKvHead: p.nHead % 2 === 0 ? p.nHead / 2 : p.nHead,
    nInner: Math.round((8 * p.nEmbd) / 3 / 32) * 32,
    eps: 1e-5,
    ropeTheta: 10000,
    tieWordEmbeddings: false,
    bosTokenId: eosTokenId,
    eosTokenId,
  };
}

export type Family = "gpt2" | "llama";

/** The model config of a family at a preset's size. */
export function modelConfig(
  family: Family,
  p: Preset,
  vocabSize: number,
  eosTokenId?: number,
): ModelConfig {
  return family === "llama"
    ? llamaConfig(p, vocabSize, eosTokenId)
    : gpt2Config(p, vocabSize, eosTokenId);
}
