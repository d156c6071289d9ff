/**
 * From a model config (the HF `config.json` fields, see io/hf-config.ts) to a model object, and
 * between our parameter layout and the HF tensor layout used in checkpoints and exports.
 *
 * Our linear weights are [out, in] (nn.Linear). HF GPT-2 stores its attention and MLP weights
 * in Conv1D layout [in, out], so those four per block are transposed on the way in and out;
 * Llama's HF layout is already [out, in]. GPT-2's LM head is tied to `transformer.wte.weight`
 * and not stored separately.
 */
import type { Tensor } from "../tensor/tensor.js";
import { UserError } from "../util/errors.js";
import { GPT2 } from "./gpt2.js";
import type { ModelConfig } from "./io/hf-config.js";
import { Llama } from "./llama.js";

/** What training, evaluation and sampling need from a model of any family. */
export interface LanguageModel {
  readonly params: Tensor[];
  numParams(): number;
  /** Logits [B, T, V]. */
  forward(ids: Int32Array, B: number, T: number, training?: boolean): Tensor;
  /** Mean next-token cross-entropy (negative targets ignored). */
  loss(ids: Int32Array, targets: Int32Array, B: number, T: number, training?: boolean): Tensor;
}

export function createModel(cfg: ModelConfig, seed = 0): LanguageModel {
  if (cfg.family === "gpt2") {
    if (cfg.nInner !== 4 * cfg.nEmbd) {
      throw new UserError(
        `GPT-2 with n_inner ${cfg.nInner} is not supported (must be 4 × n_embd = ${4 * cfg.nEmbd})`,
      );
    }
    return new GPT2(
      {
        vocabSize: cfg.vocabSize,
        nCtx: cfg.nCtx,
        nEmbd: cfg.nEmbd,
        nLayer: cfg.nLayer,
        nHead: cfg.nHead,
        eps: cfg.eps,
      },
      seed,
    );
  }
  if (cfg.tieWordEmbeddings) {
    throw new UserError(
      "Llama with tied word embeddings is not supported",
      "set tie_word_embeddings to false",
    );
  }
  return new Llama(
    {
      vocabSize: cfg.vocabSize,
      nCtx: cfg.nCtx,
      nEmbd: cfg.nEmbd,
      nLayer: cfg.nLayer,
      nHead: cfg.nHead,
      nKvHead: cfg.nKvHead,
      nHidden: cfg.nInner,
      eps: cfg.eps,
      ropeTheta: cfg.ropeTheta,
    },
    seed,
  );
}

const CONV1D = /^transformer\.h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;

/** True if HF stores this parameter transposed relative to ours. */
export function isTransposedInHf(cfg: ModelConfig, name: string): boolean {
  return cfg.family === "gpt2" && CONV1D.test(name);
}

function transpose(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** The model's parameters as HF-named, HF-laid-out float32 tensors (copies). */
export function toHfTensors(
  cfg: ModelConfig,
  model: LanguageModel,
): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const p of model.params) {
    if (isTransposedInHf(cfg, p.name)) {
      const [rows, cols] = p.shape as [number, number];
      out.set(p.name, { shape: [cols, rows], data: transpose(p.data, rows, cols) });
    } else {
      out.set(p.name, { shape: [...p.shape], data: Float32Array.from(p.data) });
    }
  }
  return out;
}

/** Copies HF-layout tensors into the model's parameters, checking names and shapes. */
export function loadHfTensors(
  cfg: ModelConfig,
  model: LanguageModel,
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  where: string,
): void {
  for (const p of model.params) {
    const t = tensors.get(p.name);
    if (!t)
      throw new UserError(
        `${where}: missing tensor ${p.name}`,
        "the checkpoint does not match this model config",
      );
    const transposed = isTransposedInHf(cfg, p.name);
    const want = transposed ? [p.shape[1]!, p.shape[0]!] : [...p.shape];
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new UserError(
        `${where}: tensor ${p.name} has shape [${t.shape}], the model needs [${want}]`,
        "the checkpoint does not match config.json",
      );
    }
    p.data.set(transposed ? transpose(t.data, want[0]!, want[1]!) : t.data);
  }
}
