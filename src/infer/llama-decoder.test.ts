import assert from "node:assert/strict";
import { test } from "node:test";
import { Llama } from "../model/llama.js";
import { noGrad } from "../tensor/tensor.js";
import { LlamaDecoder } from "./llama-decoder.js";

test("Llama KV-cache decoder (GQA, RoPE) matches full forward passes at every position", () => {
  const cfg = { vocabSize: 61, nCtx: 20, nEmbd: 32, nLayer: 2, nHead: 4, nKvHead: 2, nHidden: 48 };
  const model = new Llama(cfg, 11);
  const ids = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 3];
  const dec = new LlamaDecoder(model, 1);
  let logits = dec.step(Int32Array.from(ids.slice(0, 5)), 1, 5);
  for (let t = 5; t <= ids.length; t++) {
    const full = noGrad(() =>
      Float32Array.from(
        model.forward(Int32Array.from(ids.slice(0, t)), 1, t).data.subarray((t - 1) * 61, t * 61),
      ),
    );
    let err = 0;
    for (let i = 0; i < 61; i++) err = Math.max(err, Math.abs(full[i]! - logits[i]!));
    assert.ok(err < 1e-4, `position ${t}: max |Δlogit| ${err}`);
    if (t < ids.length) logits = dec.step(Int32Array.of(ids[t]!), 1, 1);
  }
});

test("Llama decoder: batched rows are independent and match single-row decoding", () => {
  const cfg = { vocabSize: 61, nCtx: 20, nEmbd: 32, nLayer: 2, nHead: 4, nKvHead: 2, nHidden: 48 };
  const model = new Llama(cfg, 12);
  const a = [1, 2, 3, 4];
  const b = [9, 8, 7, 6];
  const dec = new LlamaDecoder(model, 2);
  dec.step(Int32Array.from([...a, ...b]), 2, 4);
  const both = dec.step(Int32Array.of(5, 50), 2, 1);
  const single = new LlamaDecoder(model, 1);
  for (const [r, ids] of [a, b].entries()) {
    single.reset();
    single.step(Int32Array.from(ids), 1, 4);
    const one = single.step(Int32Array.of(r === 0 ? 5 : 50), 1, 1);
    for (let i = 0; i < 61; i++) assert.ok(Math.abs(both[r * 61 + i]! - one[i]!) < 1e-5);
  }
});
