/**
 * A checkpoint directory in Hugging Face's layout: `config.json` + `model.safetensors`.
 * (Optimizer and trainer state live beside them and belong to the trainer.)
 *
 * Loading accepts what HF itself writes: GPT-2 files saved from the bare `GPT2Model` name their
 * tensors without the `transformer.` prefix (`h.0.attn.c_attn.weight`, `wte.weight`); they are
 * renamed on load. F16 and BF16 tensors are widened to F32.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../util/errors.js";
import { type ModelConfig, readHfConfig, writeHfConfig } from "./hf-config.js";
import {
  type F32Tensor,
  readSafetensors,
  type TensorToWrite,
  toFloat32,
  writeSafetensors,
} from "./safetensors.js";
import { isHfBuffer } from "./tensor-names.js";

export const CONFIG_JSON = "config.json";
export const WEIGHTS_FILE = "model.safetensors";

export interface HfCheckpoint {
  config: ModelConfig;
  weights: Map<string, F32Tensor>;
  metadata: Record<string, string>;
}

/** Reads `dir/config.json` and `dir/model.safetensors`. */
export async function loadHfCheckpoint(dir: string): Promise<HfCheckpoint> {
  const cfgPath = join(dir, CONFIG_JSON);
  const stPath = join(dir, WEIGHTS_FILE);
  for (const p of [cfgPath, stPath]) {
    if (!existsSync(p)) {
      throw new UserError(
        `${p} does not exist`,
        `a checkpoint directory holds ${CONFIG_JSON} and ${WEIGHTS_FILE} (sharded checkpoints are not supported)`,
      );
    }
  }
  const config = await readHfConfig(cfgPath);
  const file = await readSafetensors(stPath);
  const weights = new Map<string, F32Tensor>();
  for (const [name, t] of file.tensors) {
    if (isHfBuffer(name)) continue;
    const full =
      config.family === "gpt2" && !name.startsWith("transformer.") && name !== "lm_head.weight"
        ? `transformer.${name}`
        : name;
    weights.set(full, { shape: t.shape, data: toFloat32(t) });
  }
  return { config, weights, metadata: file.metadata };
}

/** Writes config.json and model.safetensors (each atomically; weights first, config last). */
export async function saveHfCheckpoint(
  dir: string,
  config: ModelConfig,
  weights: Map<string, F32Tensor>,
  opts: { dtype?: "F32" | "F16"; metadata?: Record<string, string> } = {},
): Promise<void> {
  const out = new Map<string, TensorToWrite>();
  for (const [name, t] of weights) out.set(name, { ...t, dtype: opts.dtype ?? "F32" });
  await writeSafetensors(join(dir, WEIGHTS_FILE), out, { format: "pt", ...opts.metadata });
  await writeHfConfig(join(dir, CONFIG_JSON), config);
}
