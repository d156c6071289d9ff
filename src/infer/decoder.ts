/** Picks the KV-cache decoder of a model's family. */
import type { LanguageModel } from "../model/factory.js";
import type { GPT2 } from "../model/gpt2.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import type { Llama } from "../model/llama.js";
import type { Decoder } from "./generate.js";
import { Gpt2Decoder } from "./gpt2-decoder.js";
import type { FeedPart } from "./kv-cache.js";
import { LlamaDecoder } from "./llama-decoder.js";

/**
 * A decoder whose cache slots hold sequences at their own positions (the engine's rows: each
 * its own conversation, each forced tool output as long as it is).
 */
export interface SlotDecoder extends Decoder {
  readonly maxBatch: number;
  /** Positions filled in each slot. */
  readonly slotPos: Int32Array;
  /** Feeds each part to its slot at that slot's position; logits after each part [parts, V]. */
  feed(parts: readonly FeedPart[]): Float32Array;
  clearSlot(slot: number): void;
}

/** The KV-cache decoder for a model of either family. */
export function createDecoder(model: LanguageModel, cfg: ModelConfig, maxBatch = 1): SlotDecoder {
  return cfg.family === "gpt2"
    ? new Gpt2Decoder(model as GPT2, maxBatch)
    : new LlamaDecoder(model as Llama, maxBatch);
}
