import assert from "node:assert/strict";
import { test } from "node:test";
import { createModel, loadHfTensors } from "../factory.js";
import { Llama } from "../llama.js";
import type { ModelConfig } from "./hf-config.js";
import { randomWeights } from "./random-model.js";
import { logSoftmax, referenceGreedy, referenceLogits } from "./reference-forward.js";

const GPT2: ModelConfig = {
  family: "gpt2",
  vocabSize: 97,
  nCtx: 32,
  nEmbd: 24,
  nLayer: 2,
  nHead: 3,
  nInner: 96,
  eps: 1e-5,
};
const LLAMA: ModelConfig = {
  family: "llama",
  vocabSize: 97,
  nCtx: 32,
  nEmbd: 24,
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
  nInner: 40,
  eps: 1e-6,
  ropeTheta: 10000,
  tieWordEmbeddings: false,
};
const IDS = [5, 17, 96, 0, 42, 42, 8, 63, 1, 30];

test("reference forward: causal (a position never sees later tokens), deterministic", () => {
  for (const cfg of [GPT2, LLAMA]) {
    const w = randomWeights(cfg, 11);
    const full = referenceLogits(cfg, w, IDS);
    const prefix = referenceLogits(cfg, w, IDS.slice(0, 6));
    for (let p = 0; p < 6; p++) assert.deepEqual(prefix[p], full[p]);
    const last = referenceLogits(cfg, w, IDS, { lastOnly: true });
    assert.deepEqual(last, [full[IDS.length - 1]]);
    assert.equal(referenceGreedy(cfg, w, IDS, 5).length, 5);
  }
});

test("reference forward agrees with chatforge's GPT-2 (src/model) on the same HF weights", () => {
  const w = randomWeights(GPT2, 5);
  const model = createModel(GPT2);
  loadHfTensors(GPT2, model, w, "random weights");
  const out = model.forward(Int32Array.from(IDS), 1, IDS.length, false);
  const ref = referenceLogits(GPT2, w, IDS);
  const V = GPT2.vocabSize;
  let worst = 0;
  for (let p = 0; p < IDS.length; p++) {
    const a = logSoftmax(ref[p]!);
    const b = logSoftmax(Float64Array.from(out.data.subarray(p * V, (p + 1) * V)));
    for (let i = 0; i < V; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  assert.ok(worst < 1e-4, `max |Δ log p| ${worst}`);
});

test("reference forward agrees with chatforge's Llama (src/model, GQA, RoPE) on the same HF weights", () => {
  if (LLAMA.family !== "llama") return;
  const w = randomWeights(LLAMA, 5);
  const model = new Llama({
    vocabSize: LLAMA.vocabSize,
    nCtx: LLAMA.nCtx,
    nEmbd: LLAMA.nEmbd,
    nLayer: LLAMA.nLayer,
    nHead: LLAMA.nHead,
    nKvHead: LLAMA.nKvHead,
    nHidden: LLAMA.nInner,
    eps: LLAMA.eps,
    ropeTheta: LLAMA.ropeTheta,
  });
  for (const p of model.params) {
    const t = w.get(p.name);
    assert.ok(t, `no HF weight for parameter ${p.name}`);
    (p.data as Float32Array).set(t.data); // same names, same [out, in] layout as HF
  }
  const out = model.forward(Int32Array.from(IDS), 1, IDS.length);
  const ref = referenceLogits(LLAMA, w, IDS);
  const V = LLAMA.vocabSize;
  let worst = 0;
  for (let p = 0; p < IDS.length; p++) {
    const a = logSoftmax(ref[p]!);
    const b = logSoftmax(Float64Array.from(out.data.subarray(p * V, (p + 1) * V)));
    for (let i = 0; i < V; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  assert.ok(worst < 1e-4, `max |Δ log p| ${worst}`);
});
