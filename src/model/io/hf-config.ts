/**
 * Hugging Face `config.json` for the two model families, in both directions.
 *
 *   GPT2LMHeadModel   n_embd, n_layer, n_head, n_positions, n_inner (null = 4·n_embd), vocab_size,
 *                     layer_norm_epsilon, activation_function "gelu_new", tied embeddings
 *   LlamaForCausalLM  hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
 *                     num_key_value_heads, rms_norm_eps, rope_theta, max_position_embeddings,
 *                     hidden_act "silu", tie_word_embeddings (false by default)
 *
 * Parsing checks every field chatforge relies on and rejects settings it does not implement
 * (another activation, rope scaling, biases in Llama, …) with a `UserError` naming the field:
 * silently ignoring one would give a model that loads but computes something else.
 * Field names on our side follow `src/model/gpt2.ts` (vocabSize, nCtx, nEmbd, nLayer, nHead, eps).
 */
import { readFile } from "node:fs/promises";
import { writeJsonAtomic } from "../../util/atomic.js";
import { UserError } from "../../util/errors.js";

export interface Gpt2ModelConfig {
  family: "gpt2";
  vocabSize: number;
  /** Context length: number of learned positions (n_positions). */
  nCtx: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** MLP hidden size (n_inner; 4·nEmbd for GPT-2). */
  nInner: number;
  /** LayerNorm epsilon (layer_norm_epsilon). */
  eps: number;
  bosTokenId?: number;
  eosTokenId?: number;
}

export interface LlamaModelConfig {
  family: "llama";
  vocabSize: number;
  /** Longest context the model was trained for (max_position_embeddings). */
  nCtx: number;
  /** hidden_size */
  nEmbd: number;
  nLayer: number;
  /** num_attention_heads */
  nHead: number;
  /** num_key_value_heads (= nHead without grouped-query attention). */
  nKvHead: number;
  /** intermediate_size: SwiGLU hidden size. */
  nInner: number;
  /** RMSNorm epsilon (rms_norm_eps). */
  eps: number;
  /** RoPE base (rope_theta). */
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  bosTokenId?: number;
  eosTokenId?: number;
}

export type ModelConfig = Gpt2ModelConfig | LlamaModelConfig;

type Json = Record<string, unknown>;

/** Reads fields of one config.json and names the bad one in errors. */
class Fields {
  constructor(
    readonly obj: Json,
    readonly where: string,
  ) {}

  fail(field: string, what: string, hint?: string): never {
    throw new UserError(`${this.where}: "${field}" ${what}`, hint);
  }

  int(field: string, opts: { min?: number; default?: number; alt?: string } = {}): number {
    let v = this.obj[field];
    if (v === undefined && opts.alt !== undefined) v = this.obj[opts.alt];
    if (v === undefined || v === null) {
      if (opts.default !== undefined) return opts.default;
      this.fail(field, "is missing");
    }
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.fail(field, `must be an integer, got ${JSON.stringify(v)}`);
    }
    if (v < (opts.min ?? 1)) this.fail(field, `must be at least ${opts.min ?? 1}, got ${v}`);
    return v;
  }

  num(field: string, def?: number): number {
    const v = this.obj[field];
    if (v === undefined || v === null) {
      if (def !== undefined) return def;
      this.fail(field, "is missing");
    }
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      this.fail(field, `must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  optInt(field: string): number | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return this.optIntValue(field, v[0]);
    return this.optIntValue(field, v);
  }

  optIntValue(field: string, v: unknown): number {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      this.fail(field, `must be a token id, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(field: string, def: boolean): boolean {
    const v = this.obj[field];
    if (v === undefined || v === null) return def;
    if (typeof v !== "boolean") this.fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  /** The field, if present, must be one of `allowed` (undefined/null count as absent). */
  oneOf(field: string, allowed: unknown[], hint?: string): void {
    const v = this.obj[field];
    if (v === undefined) return;
    if (!allowed.some((a) => a === v)) {
      this.fail(
        field,
        `is ${JSON.stringify(v)}; chatforge supports ${allowed.map((a) => JSON.stringify(a)).join(" or ")}`,
        hint,
      );
    }
  }
}

/** Parses a config.json object (GPT2LMHeadModel or LlamaForCausalLM). `where` names its file. */
export function parseHfConfig(json: unknown, where = "config.json"): ModelConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new UserError(`${where}: expected a JSON object`);
  }
  const f = new Fields(json as Json, where);
  const archs = f.obj.architectures;
  const arch = Array.isArray(archs) ? archs[0] : undefined;
  const type = f.obj.model_type;
  if (arch === "GPT2LMHeadModel" || (arch === undefined && type === "gpt2")) return parseGpt2(f);
  if (arch === "LlamaForCausalLM" || (arch === undefined && type === "llama")) return parseLlama(f);
  throw new UserError(
    `${where}: "architectures" is ${JSON.stringify(archs)} (model_type ${JSON.stringify(type)}); ` +
      "chatforge reads GPT2LMHeadModel and LlamaForCausalLM",
  );
}

function parseGpt2(f: Fields): Gpt2ModelConfig {
  f.oneOf("model_type", ["gpt2"]);
  const nEmbd = f.int("n_embd");
  const nHead = f.int("n_head");
  if (nEmbd % nHead !== 0) f.fail("n_head", `(${nHead}) must divide n_embd (${nEmbd})`);
  // GPT-2's GELU is the tanh approximation; HF calls it "gelu_new" (also "gelu_pytorch_tanh").
  f.oneOf("activation_function", ["gelu_new", "gelu_pytorch_tanh"]);
  f.oneOf("tie_word_embeddings", [true], "GPT-2 ties the LM head to the token embedding");
  f.oneOf("scale_attn_weights", [true]);
  f.oneOf("scale_attn_by_inverse_layer_idx", [false]);
  f.oneOf("reorder_and_upcast_attn", [false]);
  f.oneOf("add_cross_attention", [false]);
  const cfg: Gpt2ModelConfig = {
    family: "gpt2",
    vocabSize: f.int("vocab_size"),
    nCtx: f.int("n_positions", { alt: "n_ctx" }),
    nEmbd,
    nLayer: f.int("n_layer"),
    nHead,
    nInner: f.int("n_inner", { default: 4 * nEmbd }),
    eps: f.num("layer_norm_epsilon", 1e-5),
  };
  const bos = f.optInt("bos_token_id");
  const eos = f.optInt("eos_token_id");
  if (bos !== undefined) cfg.bosTokenId = bos;
  if (eos !== undefined) cfg.eosTokenId = eos;
  return cfg;
}

function parseLlama(f: Fields): LlamaModelConfig {
  f.oneOf("model_type", ["llama"]);
  const nEmbd = f.int("hidden_size");
  const nHead = f.int("num_attention_heads");
  const nKvHead = f.int("num_key_value_heads", { default: nHead });
  if (nEmbd % nHead !== 0)
    f.fail("num_attention_heads", `(${nHead}) must divide hidden_size (${nEmbd})`);
  if (nHead % nKvHead !== 0) {
    f.fail("num_key_value_heads", `(${nKvHead}) must divide num_attention_heads (${nHead})`);
  }
  const headDim = nEmbd / nHead;
  if (headDim % 2 !== 0)
    f.fail("hidden_size", `/ num_attention_heads = ${headDim} must be even (RoPE rotates pairs)`);
  const hd = f.obj.head_dim;
  if (hd !== undefined && hd !== null && hd !== headDim) {
    f.fail(
      "head_dim",
      `is ${JSON.stringify(hd)}; chatforge needs hidden_size / num_attention_heads = ${headDim}`,
    );
  }
  f.oneOf("hidden_act", ["silu"]);
  f.oneOf("rope_scaling", [null], "remove rope_scaling (chatforge implements plain RoPE)");
  f.oneOf("attention_bias", [false]);
  f.oneOf("mlp_bias", [false]);
  f.oneOf("pretraining_tp", [1]);
  const cfg: LlamaModelConfig = {
    family: "llama",
    vocabSize: f.int("vocab_size"),
    nCtx: f.int("max_position_embeddings"),
    nEmbd,
    nLayer: f.int("num_hidden_layers"),
    nHead,
    nKvHead,
    nInner: f.int("intermediate_size"),
    eps: f.num("rms_norm_eps", 1e-6),
    ropeTheta: f.num("rope_theta", 10000),
    tieWordEmbeddings: f.bool("tie_word_embeddings", false),
  };
  const bos = f.optInt("bos_token_id");
  const eos = f.optInt("eos_token_id");
  if (bos !== undefined) cfg.bosTokenId = bos;
  if (eos !== undefined) cfg.eosTokenId = eos;
  return cfg;
}

/** The config.json object HF `transformers` writes for this model (float32 weights). */
export function toHfConfig(cfg: ModelConfig): Record<string, unknown> {
  const ids: Record<string, number> = {};
  if (cfg.bosTokenId !== undefined) ids.bos_token_id = cfg.bosTokenId;
  if (cfg.eosTokenId !== undefined) ids.eos_token_id = cfg.eosTokenId;
  if (cfg.family === "gpt2") {
    return {
      architectures: ["GPT2LMHeadModel"],
      model_type: "gpt2",
      vocab_size: cfg.vocabSize,
      n_positions: cfg.nCtx,
      n_ctx: cfg.nCtx,
      n_embd: cfg.nEmbd,
      n_layer: cfg.nLayer,
      n_head: cfg.nHead,
      n_inner: cfg.nInner === 4 * cfg.nEmbd ? null : cfg.nInner,
      activation_function: "gelu_new",
      layer_norm_epsilon: cfg.eps,
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      initializer_range: 0.02,
      scale_attn_weights: true,
      tie_word_embeddings: true,
      use_cache: true,
      ...ids,
      torch_dtype: "float32",
    };
  }
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.nEmbd,
    intermediate_size: cfg.nInner,
    num_hidden_layers: cfg.nLayer,
    num_attention_heads: cfg.nHead,
    num_key_value_heads: cfg.nKvHead,
    head_dim: cfg.nEmbd / cfg.nHead,
    hidden_act: "silu",
    max_position_embeddings: cfg.nCtx,
    rms_norm_eps: cfg.eps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    pretraining_tp: 1,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    initializer_range: 0.02,
    use_cache: true,
    ...ids,
    torch_dtype: "float32",
  };
}

/** Reads and parses a config.json file. */
export async function readHfConfig(path: string): Promise<ModelConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserError(`${path}: not valid JSON (${e.message})`);
    throw e;
  }
  return parseHfConfig(json, path);
}

/** Writes config.json atomically. */
export function writeHfConfig(path: string, cfg: ModelConfig): Promise<void> {
  return writeJsonAtomic(path, toHfConfig(cfg));
}
