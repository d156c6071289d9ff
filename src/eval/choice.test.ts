import assert from "node:assert/strict";
import { test } from "node:test";
import { createModel } from "../model/factory.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import { scope } from "../tensor/memory.js";
import { noGrad } from "../tensor/tensor.js";
import { bestOption, optionLogprobs } from "./choice.js";
import { wilson } from "./task-run.js";

const cfg: ModelConfig = {
  family: "gpt2",
  vocabSize: 40,
  nCtx: 16,
  nEmbd: 16,
  nLayer: 2,
  nHead: 2,
  nInner: 64,
  eps: 1e-5,
};

test("option log-probabilities equal the model's own loss on those tokens", () => {
  const model = createModel(cfg, 4);
  const prompt = [1, 5, 9, 2];
  const options = [[7, 3], [11, 12, 13, 14], [20]];
  const lp = optionLogprobs(model, prompt, options, 0);
  for (const [i, o] of options.entries()) {
    const ids = [...prompt, ...o];
    const T = ids.length - 1;
    const x = Int32Array.from(ids.slice(0, T));
    const y = new Int32Array(T).fill(-1);
    for (let j = 0; j < o.length; j++) y[prompt.length - 1 + j] = o[j]!;
    let mean = 0;
    noGrad(() =>
      scope(() => {
        mean = model.loss(x, y, 1, T, false).item();
      }),
    );
    assert.ok(
      Math.abs(lp[i]! + mean * o.length) < 1e-4,
      `option ${i}: ${lp[i]} vs ${-mean * o.length}`,
    );
  }
  assert.equal(bestOption([-3, -1, -2]), 1);
  assert.equal(bestOption([-1, -1]), 0, "ties go to the first");
});

test("Wilson interval: known values and edge cases", () => {
  const [lo, hi] = wilson(8, 10);
  assert.ok(Math.abs(lo - 0.4902) < 1e-3 && Math.abs(hi - 0.9433) < 1e-3, `${lo} ${hi}`);
  assert.deepEqual(wilson(0, 0), [0, 1]);
  assert.ok(Math.abs(wilson(0, 20)[0]) < 1e-12);
  assert.ok(wilson(20, 20)[1] > 1 - 1e-12);
});
