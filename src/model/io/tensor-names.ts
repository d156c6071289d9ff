/**
 * Tensor names and layouts: Hugging Face state dicts ↔ llama.cpp GGUF files.
 *
 * GPT-2 (`GPT2LMHeadModel`; HF's Conv1D stores weights as [in, out], so they are transposed to the
 * [out, in] that ggml's matmul expects — `x · Wᵀ` with W row-major [out, in]):
 *
 *   transformer.wte.weight              [V, d]      token_embd.weight
 *   transformer.wpe.weight              [ctx, d]    position_embd.weight
 *   transformer.h.N.ln_1.{weight,bias}  [d]         blk.N.attn_norm.{weight,bias}
 *   transformer.h.N.attn.c_attn.weight  [d, 3d]  ᵀ  blk.N.attn_qkv.weight      [3d, d]
 *   transformer.h.N.attn.c_attn.bias    [3d]        blk.N.attn_qkv.bias
 *   transformer.h.N.attn.c_proj.weight  [d, d]   ᵀ  blk.N.attn_output.weight
 *   transformer.h.N.attn.c_proj.bias    [d]         blk.N.attn_output.bias
 *   transformer.h.N.ln_2.{weight,bias}  [d]         blk.N.ffn_norm.{weight,bias}
 *   transformer.h.N.mlp.c_fc.weight     [d, 4d]  ᵀ  blk.N.ffn_up.weight        [4d, d]
 *   transformer.h.N.mlp.c_fc.bias       [4d]        blk.N.ffn_up.bias
 *   transformer.h.N.mlp.c_proj.weight   [4d, d]  ᵀ  blk.N.ffn_down.weight      [d, 4d]
 *   transformer.h.N.mlp.c_proj.bias     [d]         blk.N.ffn_down.bias
 *   transformer.ln_f.{weight,bias}      [d]         output_norm.{weight,bias}
 *   lm_head.weight (tied to wte)                    — none: llama.cpp reuses token_embd.weight
 *
 *   (HF GPT-2 files may also hold the causal-mask buffers `attn.bias`/`attn.masked_bias`; they are
 *   not weights and are skipped.)
 *
 * Llama (`LlamaForCausalLM`; nn.Linear weights are already [out, in]):
 *
 *   model.embed_tokens.weight                     token_embd.weight
 *   model.layers.N.input_layernorm.weight         blk.N.attn_norm.weight
 *   model.layers.N.self_attn.q_proj.weight    P   blk.N.attn_q.weight     (permuted by n_head)
 *   model.layers.N.self_attn.k_proj.weight    P   blk.N.attn_k.weight     (permuted by n_head_kv)
 *   model.layers.N.self_attn.v_proj.weight        blk.N.attn_v.weight
 *   model.layers.N.self_attn.o_proj.weight        blk.N.attn_output.weight
 *   model.layers.N.post_attention_layernorm.weight blk.N.ffn_norm.weight
 *   model.layers.N.mlp.gate_proj.weight           blk.N.ffn_gate.weight
 *   model.layers.N.mlp.up_proj.weight             blk.N.ffn_up.weight
 *   model.layers.N.mlp.down_proj.weight           blk.N.ffn_down.weight
 *   model.norm.weight                             output_norm.weight
 *   lm_head.weight                                output.weight (absent when tied)
 *
 * The permutation P: HF applies RoPE with `rotate_half`, pairing dimension i of a head with
 * dimension i + hd/2; llama.cpp's LLAMA rope pairs adjacent dimensions 2i and 2i+1. Reordering the
 * rows of each head's block of Q and K (row 2i+j of the GGUF head = row j·hd/2 + i of the HF head,
 * j ∈ {0,1}) makes the two compute the same attention — what `convert_hf_to_gguf.py` does.
 */
import { UserError } from "../../util/errors.js";
import type { ModelConfig } from "./hf-config.js";
import type { F32Tensor } from "./safetensors.js";

/** How a tensor's values change between the HF and the GGUF layout. */
export type Layout =
  | { kind: "same" }
  | { kind: "transpose" }
  /** RoPE row permutation for `heads` heads (see the file comment). */
  | { kind: "rope-permute"; heads: number };

export interface NameMapEntry {
  hf: string;
  gguf: string;
  /** Row-major shape on the HF side. */
  hfShape: number[];
  layout: Layout;
}

const SAME: Layout = { kind: "same" };
const T: Layout = { kind: "transpose" };

/** The complete name map of a model: every weight it has, in GGUF file order. */
export function tensorNameMap(cfg: ModelConfig): NameMapEntry[] {
  const out: NameMapEntry[] = [];
  const add = (hf: string, gguf: string, hfShape: number[], layout: Layout = SAME) =>
    out.push({ hf, gguf, hfShape, layout });
  const d = cfg.nEmbd;
  const ff = cfg.nInner;
  if (cfg.family === "gpt2") {
    add("transformer.wte.weight", "token_embd.weight", [cfg.vocabSize, d]);
    add("transformer.wpe.weight", "position_embd.weight", [cfg.nCtx, d]);
    for (let i = 0; i < cfg.nLayer; i++) {
      const h = `transformer.h.${i}.`;
      const b = `blk.${i}.`;
      add(`${h}ln_1.weight`, `${b}attn_norm.weight`, [d]);
      add(`${h}ln_1.bias`, `${b}attn_norm.bias`, [d]);
      add(`${h}attn.c_attn.weight`, `${b}attn_qkv.weight`, [d, 3 * d], T);
      add(`${h}attn.c_attn.bias`, `${b}attn_qkv.bias`, [3 * d]);
      add(`${h}attn.c_proj.weight`, `${b}attn_output.weight`, [d, d], T);
      add(`${h}attn.c_proj.bias`, `${b}attn_output.bias`, [d]);
      add(`${h}ln_2.weight`, `${b}ffn_norm.weight`, [d]);
      add(`${h}ln_2.bias`, `${b}ffn_norm.bias`, [d]);
      add(`${h}mlp.c_fc.weight`, `${b}ffn_up.weight`, [d, ff], T);
      add(`${h}mlp.c_fc.bias`, `${b}ffn_up.bias`, [ff]);
      add(`${h}mlp.c_proj.weight`, `${b}ffn_down.weight`, [ff, d], T);
      add(`${h}mlp.c_proj.bias`, `${b}ffn_down.bias`, [d]);
    }
    add("transformer.ln_f.weight", "output_norm.weight", [d]);
    add("transformer.ln_f.bias", "output_norm.bias", [d]);
    return out;
  }
  const hd = d / cfg.nHead;
  add("model.embed_tokens.weight", "token_embd.weight", [cfg.vocabSize, d]);
  for (let i = 0; i < cfg.nLayer; i++) {
    const h = `model.layers.${i}.`;
    const b = `blk.${i}.`;
    add(`${h}input_layernorm.weight`, `${b}attn_norm.weight`, [d]);
    add(`${h}self_attn.q_proj.weight`, `${b}attn_q.weight`, [cfg.nHead * hd, d], {
      kind: "rope-permute",
      heads: cfg.nHead,
    });
    add(`${h}self_attn.k_proj.weight`, `${b}attn_k.weight`, [cfg.nKvHead * hd, d], {
      kind: "rope-permute",
      heads: cfg.nKvHead,
    });
    add(`${h}self_attn.v_proj.weight`, `${b}attn_v.weight`, [cfg.nKvHead * hd, d]);
    add(`${h}self_attn.o_proj.weight`, `${b}attn_output.weight`, [d, cfg.nHead * hd]);
    add(`${h}post_attention_layernorm.weight`, `${b}ffn_norm.weight`, [d]);
    add(`${h}mlp.gate_proj.weight`, `${b}ffn_gate.weight`, [ff, d]);
    add(`${h}mlp.up_proj.weight`, `${b}ffn_up.weight`, [ff, d]);
    add(`${h}mlp.down_proj.weight`, `${b}ffn_down.weight`, [d, ff]);
  }
  add("model.norm.weight", "output_norm.weight", [d]);
  if (!cfg.tieWordEmbeddings) add("lm_head.weight", "output.weight", [cfg.vocabSize, d]);
  return out;
}

/** HF tensors that are not weights (buffers) and are dropped on export. */
export function isHfBuffer(name: string): boolean {
  return (
    name.endsWith(".attn.bias") ||
    name.endsWith(".attn.masked_bias") ||
    name.endsWith(".rotary_emb.inv_freq")
  );
}

/** [rows, cols] → [cols, rows]. */
export function transpose2d(t: F32Tensor): F32Tensor {
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  const src = t.data;
  const B = 32; // 32×32 tiles keep both the rows read and the rows written in cache
  for (let i0 = 0; i0 < r; i0 += B) {
    const i1 = Math.min(i0 + B, r);
    for (let j0 = 0; j0 < c; j0 += B) {
      const j1 = Math.min(j0 + B, c);
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) out[j * r + i] = src[i * c + j]!;
      }
    }
  }
  return { shape: [c, r], data: out };
}

/**
 * RoPE row permutation of a [heads·hd, cols] matrix: HF rotate_half order → llama.cpp's
 * interleaved order (`inverse` goes back). GGUF row h·hd + 2i + j = HF row h·hd + j·hd/2 + i.
 */
export function ropePermute(t: F32Tensor, heads: number, inverse = false): F32Tensor {
  const [rows, cols] = t.shape as [number, number];
  const hd = rows / heads;
  const half = hd / 2;
  const out = new Float32Array(rows * cols);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const gg = h * hd + 2 * i + j;
        const hf = h * hd + j * half + i;
        const [dst, src] = inverse ? [hf, gg] : [gg, hf];
        out.set(t.data.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
    }
  }
  return { shape: [rows, cols], data: out };
}

/** Applies an entry's layout: HF → GGUF (`toGguf`), or back. Shapes are row-major. */
export function convertLayout(t: F32Tensor, layout: Layout, toGguf: boolean): F32Tensor {
  if (layout.kind === "transpose") return transpose2d(t);
  if (layout.kind === "rope-permute") return ropePermute(t, layout.heads, !toGguf);
  return t;
}

/**
 * HF-named tensors → GGUF-named tensors (row-major, ggml layout), checking that every weight the
 * config implies is present with its shape and that nothing unknown is left over.
 */
export function hfToGgufTensors(
  cfg: ModelConfig,
  hf: Map<string, F32Tensor>,
  where = "checkpoint",
): { name: string; shape: number[]; data: Float32Array }[] {
  const map = tensorNameMap(cfg);
  const used = new Set<string>();
  const out: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const e of map) {
    const t = hf.get(e.hf);
    if (!t) {
      throw new UserError(
        `${where}: tensor ${e.hf} is missing`,
        "check that config.json belongs to this checkpoint",
      );
    }
    if (t.shape.join(",") !== e.hfShape.join(",")) {
      throw new UserError(
        `${where}: tensor ${e.hf} has shape [${t.shape}], config.json implies [${e.hfShape}]`,
      );
    }
    used.add(e.hf);
    const g = convertLayout(t, e.layout, true);
    out.push({ name: e.gguf, shape: g.shape, data: g.data });
  }
  for (const name of hf.keys()) {
    if (used.has(name) || isHfBuffer(name)) continue;
    // A tied model may still carry lm_head.weight (a copy of the embedding): allowed if equal.
    if (name === "lm_head.weight") {
      const emb = hf.get(
        cfg.family === "gpt2" ? "transformer.wte.weight" : "model.embed_tokens.weight",
      )!;
      const head = hf.get(name)!;
      if (head.data.every((v, i) => v === emb.data[i])) continue;
      throw new UserError(`${where}: lm_head.weight differs from the embedding of a tied model`);
    }
    throw new UserError(`${where}: unexpected tensor ${name} for a ${cfg.family} model`);
  }
  return out;
}

/** GGUF-named tensors (row-major, float32) → HF-named tensors: the inverse of hfToGgufTensors. */
export function ggufToHfTensors(
  cfg: ModelConfig,
  gguf: Map<string, F32Tensor>,
  where = "gguf",
): Map<string, F32Tensor> {
  const out = new Map<string, F32Tensor>();
  for (const e of tensorNameMap(cfg)) {
    const t = gguf.get(e.gguf);
    if (!t) throw new UserError(`${where}: tensor ${e.gguf} is missing`);
    const h = convertLayout(t, e.layout, false);
    if (h.shape.join(",") !== e.hfShape.join(",")) {
      throw new UserError(
        `${where}: tensor ${e.gguf} has shape [${t.shape}], expected [${e.hfShape}] (HF)`,
      );
    }
    out.set(e.hf, h);
  }
  return out;
}
