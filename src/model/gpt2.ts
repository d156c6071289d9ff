/**
 * GPT-2, nanoGPT-style, on chatforge's tensor ops: learned position embeddings, pre-LayerNorm
 * blocks, GELU (tanh form) MLP, biases everywhere, and the LM head tied to the token embedding.
 * The semantics match HF `GPT2LMHeadModel`; parameter names follow its state dict
 * (`transformer.h.0.attn.c_attn.weight`, …), with one difference in layout: our linear weights
 * are [out, in] (nn.Linear), where HF's Conv1D stores [in, out] (transpose on import/export).
 *
 *   x = wte[ids] + wpe[0..T)
 *   for each block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
 *   logits = ln_f(x) · wteᵀ
 */
import { attentionPacked } from "../tensor/attention.js";
import { add, crossEntropy, dropout, embedding, gelu, layerNorm, linear } from "../tensor/ops.js";
import { Rng } from "../tensor/rng.js";
import { type DType, parameter, type Tensor } from "../tensor/tensor.js";

export interface GPT2Config {
  vocabSize: number;
  /** Context length (number of learned positions). */
  nCtx: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** Dropout probability on embeddings, attention output and MLP output (default 0). */
  dropout?: number;
  /** LayerNorm epsilon (default 1e-5). */
  eps?: number;
}

export interface GPT2Block {
  ln1w: Tensor;
  ln1b: Tensor;
  attnW: Tensor; // [3d, d]
  attnB: Tensor;
  projW: Tensor; // [d, d]
  projB: Tensor;
  ln2w: Tensor;
  ln2b: Tensor;
  fcW: Tensor; // [4d, d]
  fcB: Tensor;
  fcProjW: Tensor; // [d, 4d]
  fcProjB: Tensor;
}

export class GPT2 {
  readonly config: GPT2Config;
  readonly wte: Tensor;
  readonly wpe: Tensor;
  readonly blocks: GPT2Block[] = [];
  readonly lnfW: Tensor;
  readonly lnfB: Tensor;
  /** Every parameter, in state-dict order. */
  readonly params: Tensor[] = [];
  /** Random source for dropout. */
  rng: Rng;

  /** Builds the model with GPT-2's initialisation (normal 0.02, residual projections scaled). */
  constructor(config: GPT2Config, seed = 0, dtype: DType = "f32") {
    this.config = config;
    const { vocabSize: V, nCtx, nEmbd: d, nLayer } = config;
    const rng = new Rng(seed);
    this.rng = new Rng(seed + 1);
    const p = (shape: number[], name: string, init: "normal" | "zeros" | "ones", std = 0.02) => {
      const t = parameter(shape, name, dtype);
      if (init === "normal") rng.fillNormal(t.data, std);
      else t.data.fill(init === "ones" ? 1 : 0);
      this.params.push(t);
      return t;
    };
    const projStd = 0.02 / Math.sqrt(2 * nLayer);
    this.wte = p([V, d], "transformer.wte.weight", "normal");
    this.wpe = p([nCtx, d], "transformer.wpe.weight", "normal");
    for (let i = 0; i < nLayer; i++) {
      const h = `transformer.h.${i}.`;
      this.blocks.push({
        ln1w: p([d], `${h}ln_1.weight`, "ones"),
        ln1b: p([d], `${h}ln_1.bias`, "zeros"),
        attnW: p([3 * d, d], `${h}attn.c_attn.weight`, "normal"),
        attnB: p([3 * d], `${h}attn.c_attn.bias`, "zeros"),
        projW: p([d, d], `${h}attn.c_proj.weight`, "normal", projStd),
        projB: p([d], `${h}attn.c_proj.bias`, "zeros"),
        ln2w: p([d], `${h}ln_2.weight`, "ones"),
        ln2b: p([d], `${h}ln_2.bias`, "zeros"),
        fcW: p([4 * d, d], `${h}mlp.c_fc.weight`, "normal"),
        fcB: p([4 * d], `${h}mlp.c_fc.bias`, "zeros"),
        fcProjW: p([d, 4 * d], `${h}mlp.c_proj.weight`, "normal", projStd),
        fcProjB: p([d], `${h}mlp.c_proj.bias`, "zeros"),
      });
    }
    this.lnfW = p([d], "transformer.ln_f.weight", "ones");
    this.lnfB = p([d], "transformer.ln_f.bias", "zeros");
  }

  /** Number of parameters (the tied head counted once). */
  numParams(): number {
    return this.params.reduce((s, t) => s + t.size, 0);
  }

  /** One transformer block: x [B, T, d] → [B, T, d]. */
  block(blk: GPT2Block, x: Tensor, training = false): Tensor {
    const { nEmbd: d, nHead, eps = 1e-5, dropout: p = 0 } = this.config;
    const h = layerNorm(x, blk.ln1w, blk.ln1b, eps);
    const a = attentionPacked(linear(h, blk.attnW, blk.attnB), { nHead, headSize: d / nHead });
    // x + dropout(proj(·)); without dropout the residual add is folded into the linear
    const residual = (h: Tensor, w: Tensor, b: Tensor) =>
      training && p > 0 ? add(x, dropout(linear(h, w, b), p, this.rng, true)) : linear(h, w, b, x);
    x = residual(a, blk.projW, blk.projB);
    const m = gelu(linear(layerNorm(x, blk.ln2w, blk.ln2b, eps), blk.fcW, blk.fcB));
    return residual(m, blk.fcProjW, blk.fcProjB);
  }

  /** Final hidden states [B, T, d] for token ids (B·T of them, row-major). */
  hidden(ids: Int32Array, B: number, T: number, training = false): Tensor {
    const { nCtx, eps = 1e-5, dropout: p = 0 } = this.config;
    if (T > nCtx) throw new Error(`GPT2: sequence length ${T} exceeds the context ${nCtx}`);
    if (ids.length !== B * T) throw new Error(`GPT2: ${ids.length} ids for B=${B}, T=${T}`);
    const pos = new Int32Array(T).map((_, i) => i);
    let x = add(embedding(this.wte, ids, [B, T]), embedding(this.wpe, pos, [T]));
    x = dropout(x, p, this.rng, training);
    for (const blk of this.blocks) x = this.block(blk, x, training);
    return layerNorm(x, this.lnfW, this.lnfB, eps);
  }

  /** Logits [B, T, V] (LM head tied to wte). */
  forward(ids: Int32Array, B: number, T: number, training = false): Tensor {
    return linear(this.hidden(ids, B, T, training), this.wte);
  }

  /** Mean next-token cross-entropy against `targets` (negative targets ignored). */
  loss(ids: Int32Array, targets: Int32Array, B: number, T: number, training = true): Tensor {
    const logits = this.forward(ids, B, T, training);
    const flat = logits.reshape([B * T, this.config.vocabSize]);
    return crossEntropy(flat, targets, { overwriteLogits: true });
  }
}
