/** Picks the KV-cache decoder of a model's family. */
import type { LanguageModel } from "../model/factory.js";
import type { GPT2 } from "../model/gpt2.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import type { Llama } from "../model/llama.js";
import type { Decoder } from "./generate.js";
import { Gpt2Decoder } from "./gpt2-decoder.js";
import { LlamaDecoder } from "./llama-decoder.js";

/** The KV-cache decoder for a model of either family. */
export function createDecoder(model: LanguageModel, cfg: ModelConfig, maxBatch = 1): Decoder {
  return cfg.family === "gpt2"
    ? new Gpt2Decoder(model as GPT2, maxBatch)
    : new LlamaDecoder(model as Llama, maxBatch);
}
