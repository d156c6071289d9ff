/**
 * Seeded random weights for a model config, in HF layout: what the export tests feed to the GGUF
 * writer and the reference forward pass. Scaled so that activations stay O(1) and the next-token
 * distribution is peaked (logits with a standard deviation of a few units), which makes greedy
 * decoding well defined (no near-ties) and log-prob comparisons meaningful.
 */
import type { ModelConfig } from "./hf-config.js";
import type { F32Tensor } from "./safetensors.js";
import { tensorNameMap } from "./tensor-names.js";

/** mulberry32: a small, fast, seeded 32-bit generator (uniform in [0, 1)). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random HF-named weights for `cfg`. */
export function randomWeights(cfg: ModelConfig, seed = 1): Map<string, F32Tensor> {
  const u = seededUniform(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const out = new Map<string, F32Tensor>();
  for (const e of tensorNameMap(cfg)) {
    const n = e.hfShape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const name = e.hf;
    let mean = 0;
    let std: number;
    if (/(ln_|layernorm|norm)\S*\.weight$/.test(name) || name.endsWith("ln_f.weight")) {
      mean = 1;
      std = 0.1;
    } else if (name.endsWith(".bias")) std = 0.1;
    else if (/wte|wpe|embed_tokens|lm_head/.test(name)) std = 0.5;
    else {
      // A matrix: 1/√fan_in keeps the residual stream's scale (Conv1D's fan-in is its first dim).
      const fanIn =
        e.layout.kind === "transpose" ? e.hfShape[0]! : e.hfShape[e.hfShape.length - 1]!;
      std = 1 / Math.sqrt(fanIn);
    }
    for (let i = 0; i < n; i++) data[i] = mean + std * normal();
    out.set(name, { shape: e.hfShape, data });
  }
  return out;
}
