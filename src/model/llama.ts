/**
 * Llama, nanoGPT-style, on chatforge's tensor ops: RMSNorm, rotary position embeddings (HF
 * "rotate half" layout), grouped-query attention, SwiGLU MLP, no biases, untied LM head.
 * Semantics match HF `LlamaForCausalLM`; parameter names follow its state dict
 * (`model.layers.0.self_attn.q_proj.weight`, …) and weights are [out, in] like nn.Linear.
 *
 *   x = embed_tokens[ids]
 *   for each layer:  x = x + o_proj(attn(rope(q_proj h), rope(k_proj h), v_proj h)), h = norm(x)
 *                    x = x + down_proj(silu(gate_proj h) * up_proj h),             h = norm(x)
 *   logits = lm_head(norm(x))
 */
import { attention, type Rope, ropeTables } from "../tensor/attention.js";
import { crossEntropy, embedding, linear, rmsNorm, swiglu } from "../tensor/ops.js";
import { Rng } from "../tensor/rng.js";
import { type DType, parameter, type Tensor } from "../tensor/tensor.js";

export interface LlamaConfig {
  vocabSize: number;
  /** Maximum sequence length (RoPE tables are built for it). */
  nCtx: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** Key/value heads (GQA); defaults to nHead. */
  nKvHead?: number;
  /** MLP hidden size. */
  nHidden: number;
  /** RMSNorm epsilon (default 1e-5). */
  eps?: number;
  /** RoPE base (default 10000). */
  ropeTheta?: number;
}

export interface LlamaBlock {
  inputNorm: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  o: Tensor;
  postNorm: Tensor;
  gate: Tensor;
  up: Tensor;
  down: Tensor;
}

export class Llama {
  readonly config: LlamaConfig;
  readonly embed: Tensor;
  readonly blocks: LlamaBlock[] = [];
  readonly norm: Tensor;
  readonly lmHead: Tensor;
  readonly params: Tensor[] = [];
  readonly rope: Rope;

  /** Builds the model with normal(0, 0.02) weights and unit norms. */
  constructor(config: LlamaConfig, seed = 0, dtype: DType = "f32") {
    this.config = config;
    const { vocabSize: V, nEmbd: d, nLayer, nHead, nHidden: f } = config;
    const hs = d / nHead;
    const kv = (config.nKvHead ?? nHead) * hs;
    const rng = new Rng(seed);
    const p = (shape: number[], name: string, ones = false) => {
      const t = parameter(shape, name, dtype);
      if (ones) t.data.fill(1);
      else rng.fillNormal(t.data, 0.02);
      this.params.push(t);
      return t;
    };
    this.embed = p([V, d], "model.embed_tokens.weight");
    for (let i = 0; i < nLayer; i++) {
      const h = `model.layers.${i}.`;
      this.blocks.push({
        inputNorm: p([d], `${h}input_layernorm.weight`, true),
        q: p([d, d], `${h}self_attn.q_proj.weight`),
        k: p([kv, d], `${h}self_attn.k_proj.weight`),
        v: p([kv, d], `${h}self_attn.v_proj.weight`),
        o: p([d, d], `${h}self_attn.o_proj.weight`),
        postNorm: p([d], `${h}post_attention_layernorm.weight`, true),
        gate: p([f, d], `${h}mlp.gate_proj.weight`),
        up: p([f, d], `${h}mlp.up_proj.weight`),
        down: p([d, f], `${h}mlp.down_proj.weight`),
      });
    }
    this.norm = p([d], "model.norm.weight", true);
    this.lmHead = p([V, d], "lm_head.weight");
    this.rope = ropeTables(config.nCtx, hs, config.ropeTheta ?? 10000, dtype === "f64");
  }

  numParams(): number {
    return this.params.reduce((s, t) => s + t.size, 0);
  }

  /** One decoder layer: x [B, T, d] → [B, T, d]. */
  block(blk: LlamaBlock, x: Tensor): Tensor {
    const { nHead, nKvHead, eps = 1e-5 } = this.config;
    const h = rmsNorm(x, blk.inputNorm, eps);
    const a = attention(linear(h, blk.q), linear(h, blk.k), linear(h, blk.v), {
      nHead,
      nKvHead: nKvHead ?? nHead,
      rope: this.rope,
    });
    x = linear(a, blk.o, null, x);
    const m = rmsNorm(x, blk.postNorm, eps);
    return linear(swiglu(linear(m, blk.gate), linear(m, blk.up)), blk.down, null, x);
  }

  /** Logits [B, T, V]. */
  forward(ids: Int32Array, B: number, T: number): Tensor {
    if (T > this.config.nCtx)
      throw new Error(`Llama: sequence length ${T} exceeds ${this.config.nCtx}`);
    let x = embedding(this.embed, ids, [B, T]);
    for (const blk of this.blocks) x = this.block(blk, x);
    return linear(rmsNorm(x, this.norm, this.config.eps ?? 1e-5), this.lmHead);
  }

  /** Mean next-token cross-entropy (negative targets ignored). */
  loss(ids: Int32Array, targets: Int32Array, B: number, T: number): Tensor {
    const logits = this.forward(ids, B, T);
    const flat = logits.reshape([B * T, this.config.vocabSize]);
    return crossEntropy(flat, targets, { overwriteLogits: true });
  }
}
