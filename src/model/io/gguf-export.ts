/**
 * A whole model ↔ GGUF: config.json fields → `<arch>.*` metadata keys, HF-named weights → llama.cpp
 * tensors (see tensor-names.ts), and the tokenizer (see gguf-tokenizer.ts).
 *
 * Metadata written (key names as in llama.cpp's gguf-py `constants.py`; `{arch}` is "gpt2" or
 * "llama"):
 *
 *   general.architecture                      string  "gpt2" | "llama"
 *   general.name                              string
 *   general.file_type                         u32     0 = all F32, 1 = mostly F16
 *   general.alignment                         u32     32
 *   {arch}.vocab_size                         u32
 *   {arch}.context_length                     u32     n_positions / max_position_embeddings
 *   {arch}.embedding_length                   u32     n_embd / hidden_size
 *   {arch}.feed_forward_length                u32     n_inner / intermediate_size
 *   {arch}.block_count                        u32     n_layer / num_hidden_layers
 *   {arch}.attention.head_count               u32
 *   gpt2.attention.layer_norm_epsilon         f32
 *   llama.attention.head_count_kv             u32
 *   llama.attention.layer_norm_rms_epsilon    f32
 *   llama.rope.dimension_count                u32     head size (RoPE on the whole head)
 *   llama.rope.freq_base                      f32     rope_theta
 *   tokenizer.ggml.*                                  see gguf-tokenizer.ts
 *
 * F16 export stores 2-D weights as F16 and keeps 1-D tensors (norms, biases) in F32, as
 * llama.cpp's converter does.
 */
import { UserError } from "../../util/errors.js";
import {
  GgmlType,
  type GgufFile,
  type GgufTensorIn,
  GgufType,
  type GgufValue,
  ggufTensorF32,
  kv,
  readGguf,
  writeGguf,
} from "./gguf.js";
import { readGgufVocab, type TokenizerSource, tokenizerMetadata } from "./gguf-tokenizer.js";
import type { Gpt2ModelConfig, LlamaModelConfig, ModelConfig } from "./hf-config.js";
import type { F32Tensor } from "./safetensors.js";
import { ggufToHfTensors, hfToGgufTensors } from "./tensor-names.js";

export type GgufDtype = "f32" | "f16";

export interface GgufExportOptions {
  dtype?: GgufDtype;
  /** general.name (default "chatforge"). */
  name?: string;
  /** Where the weights came from, for error messages. */
  where?: string;
}

/** Architecture metadata from a model config. */
export function modelMetadata(
  cfg: ModelConfig,
  opts: GgufExportOptions = {},
): Map<string, GgufValue> {
  const m = new Map<string, GgufValue>();
  const a = cfg.family;
  m.set("general.architecture", kv.str(a));
  m.set("general.name", kv.str(opts.name ?? "chatforge"));
  m.set("general.file_type", kv.u32(opts.dtype === "f16" ? 1 : 0));
  m.set("general.alignment", kv.u32(32));
  m.set(`${a}.vocab_size`, kv.u32(cfg.vocabSize));
  m.set(`${a}.context_length`, kv.u32(cfg.nCtx));
  m.set(`${a}.embedding_length`, kv.u32(cfg.nEmbd));
  m.set(`${a}.feed_forward_length`, kv.u32(cfg.nInner));
  m.set(`${a}.block_count`, kv.u32(cfg.nLayer));
  m.set(`${a}.attention.head_count`, kv.u32(cfg.nHead));
  if (cfg.family === "gpt2") {
    m.set("gpt2.attention.layer_norm_epsilon", kv.f32(cfg.eps));
  } else {
    m.set("llama.attention.head_count_kv", kv.u32(cfg.nKvHead));
    m.set("llama.attention.layer_norm_rms_epsilon", kv.f32(cfg.eps));
    m.set("llama.rope.dimension_count", kv.u32(cfg.nEmbd / cfg.nHead));
    m.set("llama.rope.freq_base", kv.f32(cfg.ropeTheta));
  }
  return m;
}

/** Everything a GGUF file holds for a model: metadata and tensors, ready for `writeGguf`. */
export function buildGguf(
  cfg: ModelConfig,
  weights: Map<string, F32Tensor>,
  tok: TokenizerSource,
  opts: GgufExportOptions = {},
): { metadata: Map<string, GgufValue>; tensors: GgufTensorIn[] } {
  if (tok.vocabSize > cfg.vocabSize) {
    throw new UserError(
      `the tokenizer has ${tok.vocabSize} ids but the model's vocab_size is ${cfg.vocabSize}`,
    );
  }
  const metadata = modelMetadata(cfg, opts);
  // llama.cpp needs one token per embedding row: pad the vocabulary with unused entries.
  const padded: TokenizerSource =
    tok.vocabSize === cfg.vocabSize
      ? tok
      : {
          vocabSize: cfg.vocabSize,
          pattern: tok.pattern,
          specialTokens: tok.specialTokens,
          tokenBytes: (id) => {
            if (id >= tok.vocabSize) throw new Error("padding");
            return tok.tokenBytes(id);
          },
        };
  for (const [k, v] of tokenizerMetadata(padded)) metadata.set(k, v);
  const f16 = opts.dtype === "f16";
  const tensors = hfToGgufTensors(cfg, weights, opts.where).map((t) => ({
    ...t,
    type: f16 && t.shape.length >= 2 ? GgmlType.F16 : GgmlType.F32,
  }));
  return { metadata, tensors };
}

/** Writes a model as a GGUF file (atomically). */
export async function exportGguf(
  path: string,
  cfg: ModelConfig,
  weights: Map<string, F32Tensor>,
  tok: TokenizerSource,
  opts: GgufExportOptions = {},
): Promise<void> {
  const { metadata, tensors } = buildGguf(cfg, weights, tok, opts);
  await writeGguf(path, metadata, tensors);
}

/** The shortest decimal that rounds to the same f32 (so 1e-5 stored as f32 reads back as 1e-5). */
export function shortestF32(x: number): number {
  for (let p = 1; p < 17; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === Math.fround(x)) return y;
  }
  return x;
}

/** The model config a GGUF file describes (the inverse of `modelMetadata`). */
export function configFromGguf(file: GgufFile, where = "gguf"): ModelConfig {
  const get = (key: string, type: GgufType): number => {
    const v = file.metadata.get(key);
    if (!v) throw new UserError(`${where}: metadata key ${key} is missing`);
    // Other writers may use any integer width (u64 is common) or f64 for floats.
    const ints = [
      GgufType.UINT8,
      GgufType.INT8,
      GgufType.UINT16,
      GgufType.INT16,
      GgufType.UINT32,
      GgufType.INT32,
      GgufType.UINT64,
      GgufType.INT64,
    ];
    const ok =
      v.type === type ||
      (type === GgufType.UINT32 && ints.includes(v.type)) ||
      (type === GgufType.FLOAT32 && v.type === GgufType.FLOAT64);
    if (!ok) throw new UserError(`${where}: ${key} has GGUF type ${v.type}, expected ${type}`);
    return v.type === GgufType.FLOAT32 ? shortestF32(Number(v.value)) : Number(v.value);
  };
  const arch = file.metadata.get("general.architecture")?.value;
  const u = GgufType.UINT32;
  const tokens = file.metadata.get("tokenizer.ggml.tokens");
  const vocabKey = file.metadata.get(`${arch}.vocab_size`);
  const vocabSize = vocabKey
    ? Number(vocabKey.value)
    : tokens
      ? (tokens.value as string[]).length
      : 0;
  const eot = file.metadata.get("tokenizer.ggml.eos_token_id");
  const bos = file.metadata.get("tokenizer.ggml.bos_token_id");
  const ids: { bosTokenId?: number; eosTokenId?: number } = {};
  if (bos) ids.bosTokenId = Number(bos.value);
  if (eot) ids.eosTokenId = Number(eot.value);
  if (arch === "gpt2") {
    const cfg: Gpt2ModelConfig = {
      family: "gpt2",
      vocabSize,
      nCtx: get("gpt2.context_length", u),
      nEmbd: get("gpt2.embedding_length", u),
      nLayer: get("gpt2.block_count", u),
      nHead: get("gpt2.attention.head_count", u),
      nInner: get("gpt2.feed_forward_length", u),
      eps: get("gpt2.attention.layer_norm_epsilon", GgufType.FLOAT32),
      ...ids,
    };
    return cfg;
  }
  if (arch === "llama") {
    const cfg: LlamaModelConfig = {
      family: "llama",
      vocabSize,
      nCtx: get("llama.context_length", u),
      nEmbd: get("llama.embedding_length", u),
      nLayer: get("llama.block_count", u),
      nHead: get("llama.attention.head_count", u),
      nKvHead: get("llama.attention.head_count_kv", u),
      nInner: get("llama.feed_forward_length", u),
      eps: get("llama.attention.layer_norm_rms_epsilon", GgufType.FLOAT32),
      ropeTheta: get("llama.rope.freq_base", GgufType.FLOAT32),
      tieWordEmbeddings: !file.tensors.some((t) => t.name === "output.weight"),
      ...ids,
    };
    return cfg;
  }
  throw new UserError(
    `${where}: general.architecture is ${JSON.stringify(arch)}; chatforge reads gpt2 and llama`,
  );
}

/** Reads a GGUF file written by `exportGguf` back to config, HF-named f32 weights and vocabulary. */
export async function importGguf(path: string): Promise<{
  config: ModelConfig;
  weights: Map<string, F32Tensor>;
  vocab: ReturnType<typeof readGgufVocab>;
  file: GgufFile;
}> {
  const file = await readGguf(path);
  const config = configFromGguf(file, path);
  const byName = new Map<string, F32Tensor>();
  for (const t of file.tensors) byName.set(t.name, { shape: t.shape, data: ggufTensorF32(t) });
  const weights = ggufToHfTensors(config, byName, path);
  return { config, weights, vocab: readGgufVocab(file.metadata), file };
}
