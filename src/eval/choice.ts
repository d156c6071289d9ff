/**
 * Scoring options by likelihood: which of several continuations of one prompt does the model find
 * most probable? The sum of the log-probabilities of each option's tokens (all options in one
 * batch, one forward pass), as nanochat and lm-eval score multiple choice. A model that cannot yet
 * *say* a fact may still prefer it over wrong ones: a finer probe of what it knows than
 * generation, and the form the categorical tasks of the evaluation take.
 */
import type { LanguageModel } from "../model/factory.js";
import { scope } from "../tensor/memory.js";
import { noGrad } from "../tensor/tensor.js";

/** Σ log p(option tokens | prompt) for each option. */
export function optionLogprobs(
  model: LanguageModel,
  prompt: number[],
  options: number[][],
  pad: number,
): number[] {
  const B = options.length;
  const T = Math.max(...options.map((o) => prompt.length + o.length));
  const x = new Int32Array(B * T).fill(pad);
  for (const [b, o] of options.entries()) {
    x.set(prompt, b * T);
    x.set(o, b * T + prompt.length);
  }
  const out = new Array<number>(B).fill(0);
  noGrad(() =>
    scope(() => {
      const logits = model.forward(x, B, T, false);
      const V = logits.dim(-1);
      const d = logits.data;
      for (const [b, o] of options.entries()) {
        for (let j = 0; j < o.length; j++) {
          // the logits at position p predict token p + 1
          const row = (b * T + prompt.length - 1 + j) * V;
          let max = Number.NEGATIVE_INFINITY;
          for (let v = 0; v < V; v++) max = Math.max(max, d[row + v]!);
          let sum = 0;
          for (let v = 0; v < V; v++) sum += Math.exp(d[row + v]! - max);
          out[b]! += d[row + o[j]!]! - max - Math.log(sum);
        }
      }
    }),
  );
  return out;
}

/** Index of the most probable option (the first on ties). */
export function bestOption(logprobs: number[]): number {
  let best = 0;
  for (let i = 1; i < logprobs.length; i++) if (logprobs[i]! > logprobs[best]!) best = i;
  return best;
}
