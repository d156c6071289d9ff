/**
 * The ground truth for export tests: a plain float64 forward pass of GPT-2 and Llama over HF-named
 * weights, written for reading, not for speed (one token at a time, no batching, no cache tricks).
 *
 * GPT-2 (HF GPT2LMHeadModel):
 *   x = wte[id] + wpe[pos]
 *   per block:  x += c_proj(attn(ln_1(x)));  x += mlp.c_proj(gelu_new(mlp.c_fc(ln_2(x))))
 *   logits = ln_f(x) · wteᵀ
 *   LayerNorm uses the biased variance; Conv1D is y = x·W + b with W [in, out];
 *   gelu_new(x) = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
 *
 * Llama (HF LlamaForCausalLM):
 *   x = embed[id]
 *   per layer:  x += o_proj(attn(rope(q), rope(k), v));  x += down(silu(gate(h)) ⊙ up(h)), h = norm(x)
 *   logits = norm(x) · lm_headᵀ
 *   RMSNorm: x / √(mean(x²) + eps) · w; nn.Linear is y = x·Wᵀ with W [out, in];
 *   RoPE as HF's rotate_half: dimension i of a head pairs with i + hd/2, angle pos·θ^(−2i/hd);
 *   grouped-query attention: query head h reads key/value head ⌊h / (nHead/nKvHead)⌋.
 */
import { f16BitsToF32, f32ToF16Bits } from "./half.js";
import type { Gpt2ModelConfig, LlamaModelConfig, ModelConfig } from "./hf-config.js";
import type { F32Tensor } from "./safetensors.js";

type Weights = Map<string, F32Tensor>;
type Vec = Float64Array;

function w(weights: Weights, name: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new Error(`reference forward: missing weight ${name}`);
  return t.data;
}

/** y = x · W (+ b) with W row-major [in, out] (HF Conv1D). */
function conv1d(x: Vec, W: Float32Array, b: Float32Array | undefined, nOut: number): Vec {
  const y = new Float64Array(nOut);
  if (b) for (let j = 0; j < nOut; j++) y[j] = b[j]!;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const row = i * nOut;
    for (let j = 0; j < nOut; j++) y[j]! += xi * W[row + j]!;
  }
  return y;
}

/** y = x · Wᵀ with W row-major [out, in] (nn.Linear, no bias). */
function linear(x: Vec, W: Float32Array, nOut: number): Vec {
  const nIn = x.length;
  const y = new Float64Array(nOut);
  for (let j = 0; j < nOut; j++) {
    let s = 0;
    const row = j * nIn;
    for (let i = 0; i < nIn; i++) s += x[i]! * W[row + i]!;
    y[j] = s;
  }
  return y;
}

function layerNorm(x: Vec, g: Float32Array, b: Float32Array, eps: number): Vec {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - mean) ** 2;
  const inv = 1 / Math.sqrt(v / n + eps);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = (x[i]! - mean) * inv * g[i]! + b[i]!;
  return y;
}

function rmsNorm(x: Vec, g: Float32Array, eps: number): Vec {
  const n = x.length;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += x[i]! * x[i]!;
  const inv = 1 / Math.sqrt(ss / n + eps);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = x[i]! * inv * g[i]!;
  return y;
}

function geluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/**
 * GELU as ggml's CPU backend computes it: the input rounded to f16, looked up in a table of
 * f16-rounded gelu values (inputs ≤ −10 give 0, ≥ 10 give x). Used to tell GELU's table error
 * apart from real mismatches when comparing with llama.cpp.
 */
function geluGgml(x: number): number {
  if (x <= -10) return 0;
  if (x >= 10) return x;
  const xh = f16BitsToF32(f32ToF16Bits(x));
  return f16BitsToF32(f32ToF16Bits(geluNew(xh)));
}

function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/**
 * Causal attention of one new query position over all cached keys/values (already including the
 * new one). q: [nHead·hd], keys/values: per position [nKvHead·hd]. Returns [nHead·hd].
 */
function attend(
  q: Vec,
  keys: Vec[],
  values: Vec[],
  nHead: number,
  nKvHead: number,
  hd: number,
): Vec {
  const out = new Float64Array(nHead * hd);
  const group = nHead / nKvHead;
  const scale = 1 / Math.sqrt(hd);
  const scores = new Float64Array(keys.length);
  for (let h = 0; h < nHead; h++) {
    const kvh = Math.floor(h / group);
    let max = Number.NEGATIVE_INFINITY;
    for (let t = 0; t < keys.length; t++) {
      let s = 0;
      for (let i = 0; i < hd; i++) s += q[h * hd + i]! * keys[t]![kvh * hd + i]!;
      scores[t] = s * scale;
      if (scores[t]! > max) max = scores[t]!;
    }
    let sum = 0;
    for (let t = 0; t < keys.length; t++) {
      scores[t] = Math.exp(scores[t]! - max);
      sum += scores[t]!;
    }
    for (let t = 0; t < keys.length; t++) {
      const p = scores[t]! / sum;
      for (let i = 0; i < hd; i++) out[h * hd + i]! += p * values[t]![kvh * hd + i]!;
    }
  }
  return out;
}

/** HF rotate_half RoPE, in place, on each of `heads` heads of size hd at position `pos`. */
function rope(x: Vec, heads: number, hd: number, pos: number, theta: number): void {
  const half = hd / 2;
  for (let i = 0; i < half; i++) {
    const angle = pos * theta ** ((-2 * i) / hd);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    for (let h = 0; h < heads; h++) {
      const a = x[h * hd + i]!;
      const b = x[h * hd + i + half]!;
      x[h * hd + i] = a * c - b * s;
      x[h * hd + i + half] = b * c + a * s;
    }
  }
}

export interface ReferenceOptions {
  /** Only the last position's logits (default: every position). */
  lastOnly?: boolean;
  /** GPT-2's GELU: "exact" (default, HF) or "ggml" (ggml's f16 table, see geluGgml). */
  gelu?: "exact" | "ggml";
}

/** The logits at every position of `ids` (or only the last, with `lastOnly`). */
export function referenceLogits(
  cfg: ModelConfig,
  weights: Weights,
  ids: readonly number[],
  opts: ReferenceOptions = {},
): Vec[] {
  const lastOnly = opts.lastOnly ?? false;
  return cfg.family === "gpt2"
    ? gpt2Forward(cfg, weights, ids, lastOnly, opts.gelu === "ggml" ? geluGgml : geluNew)
    : llamaForward(cfg, weights, ids, lastOnly);
}

function gpt2Forward(
  cfg: Gpt2ModelConfig,
  W: Weights,
  ids: readonly number[],
  lastOnly: boolean,
  gelu: (x: number) => number,
): Vec[] {
  const d = cfg.nEmbd;
  const hd = d / cfg.nHead;
  const wte = w(W, "transformer.wte.weight");
  const wpe = w(W, "transformer.wpe.weight");
  const keys: Vec[][] = Array.from({ length: cfg.nLayer }, () => []);
  const values: Vec[][] = Array.from({ length: cfg.nLayer }, () => []);
  const out: Vec[] = [];
  ids.forEach((id, pos) => {
    let x = new Float64Array(d);
    for (let i = 0; i < d; i++) x[i] = wte[id * d + i]! + wpe[pos * d + i]!;
    for (let l = 0; l < cfg.nLayer; l++) {
      const p = `transformer.h.${l}.`;
      const h = layerNorm(x, w(W, `${p}ln_1.weight`), w(W, `${p}ln_1.bias`), cfg.eps);
      const qkv = conv1d(h, w(W, `${p}attn.c_attn.weight`), w(W, `${p}attn.c_attn.bias`), 3 * d);
      keys[l]!.push(qkv.slice(d, 2 * d));
      values[l]!.push(qkv.slice(2 * d, 3 * d));
      const a = attend(qkv.subarray(0, d), keys[l]!, values[l]!, cfg.nHead, cfg.nHead, hd);
      const o = conv1d(a, w(W, `${p}attn.c_proj.weight`), w(W, `${p}attn.c_proj.bias`), d);
      x = x.map((v, i) => v + o[i]!);
      const h2 = layerNorm(x, w(W, `${p}ln_2.weight`), w(W, `${p}ln_2.bias`), cfg.eps);
      const up = conv1d(h2, w(W, `${p}mlp.c_fc.weight`), w(W, `${p}mlp.c_fc.bias`), cfg.nInner);
      const down = conv1d(
        up.map(gelu),
        w(W, `${p}mlp.c_proj.weight`),
        w(W, `${p}mlp.c_proj.bias`),
        d,
      );
      x = x.map((v, i) => v + down[i]!);
    }
    if (lastOnly && pos !== ids.length - 1) return;
    const f = layerNorm(x, w(W, "transformer.ln_f.weight"), w(W, "transformer.ln_f.bias"), cfg.eps);
    out.push(linear(f, wte, cfg.vocabSize)); // tied head
  });
  return out;
}

function llamaForward(
  cfg: LlamaModelConfig,
  W: Weights,
  ids: readonly number[],
  lastOnly: boolean,
): Vec[] {
  const d = cfg.nEmbd;
  const hd = d / cfg.nHead;
  const kvDim = cfg.nKvHead * hd;
  const emb = w(W, "model.embed_tokens.weight");
  const head = cfg.tieWordEmbeddings ? emb : w(W, "lm_head.weight");
  const keys: Vec[][] = Array.from({ length: cfg.nLayer }, () => []);
  const values: Vec[][] = Array.from({ length: cfg.nLayer }, () => []);
  const out: Vec[] = [];
  ids.forEach((id, pos) => {
    let x = Float64Array.from(emb.subarray(id * d, (id + 1) * d));
    for (let l = 0; l < cfg.nLayer; l++) {
      const p = `model.layers.${l}.`;
      const h = rmsNorm(x, w(W, `${p}input_layernorm.weight`), cfg.eps);
      const q = linear(h, w(W, `${p}self_attn.q_proj.weight`), d);
      const k = linear(h, w(W, `${p}self_attn.k_proj.weight`), kvDim);
      const v = linear(h, w(W, `${p}self_attn.v_proj.weight`), kvDim);
      rope(q, cfg.nHead, hd, pos, cfg.ropeTheta);
      rope(k, cfg.nKvHead, hd, pos, cfg.ropeTheta);
      keys[l]!.push(k);
      values[l]!.push(v);
      const a = attend(q, keys[l]!, values[l]!, cfg.nHead, cfg.nKvHead, hd);
      const o = linear(a, w(W, `${p}self_attn.o_proj.weight`), d);
      x = x.map((val, i) => val + o[i]!);
      const h2 = rmsNorm(x, w(W, `${p}post_attention_layernorm.weight`), cfg.eps);
      const gate = linear(h2, w(W, `${p}mlp.gate_proj.weight`), cfg.nInner);
      const up = linear(h2, w(W, `${p}mlp.up_proj.weight`), cfg.nInner);
      const act = gate.map((g, i) => silu(g) * up[i]!);
      const down = linear(act, w(W, `${p}mlp.down_proj.weight`), d);
      x = x.map((val, i) => val + down[i]!);
    }
    if (lastOnly && pos !== ids.length - 1) return;
    const f = rmsNorm(x, w(W, "model.norm.weight"), cfg.eps);
    out.push(linear(f, head, cfg.vocabSize));
  });
  return out;
}

/** log-softmax of a logit vector. */
export function logSoftmax(logits: Vec): Vec {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return logits.map((v) => v - lse);
}

/** Index of the largest value (first on ties). */
export function argmax(v: Vec): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** Greedy continuation of `ids` by `n` tokens. */
export function referenceGreedy(
  cfg: ModelConfig,
  weights: Weights,
  ids: readonly number[],
  n: number,
  opts: ReferenceOptions = {},
): number[] {
  const seq = [...ids];
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const next = argmax(referenceLogits(cfg, weights, seq, { ...opts, lastOnly: true })[0]!);
    out.push(next);
    seq.push(next);
  }
  return out;
}
