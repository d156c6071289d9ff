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
import type { Gpt2ModelConfig } from "../model/io/hf-config.js";
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
