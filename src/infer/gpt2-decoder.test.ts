import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GPT2 } from "../model/gpt2.js";
import { noGrad } from "../tensor/tensor.js";
import { initCompute } from "../tensor/wasm/backend.js";
import { generate, generateBatch } from "./generate.js";
import { Gpt2Decoder } from "./gpt2-decoder.js";

const cfg = { vocabSize: 97, nCtx: 24, nEmbd: 32, nLayer: 2, nHead: 4 };

/** Byte-per-token stand-in tokenizer: token id = byte value (ids ≥ 256 never occur here). */
const bytesTok = {
  decodeBytes: (ids: ArrayLike<number>) => Uint8Array.from(ids as ArrayLike<number>),
};

function fullLogits(model: GPT2, ids: number[]): Float32Array {
  const V = cfg.vocabSize;
  return noGrad(() => {
    const out = model.forward(Int32Array.from(ids), 1, ids.length);
    return Float32Array.from(out.data.subarray((ids.length - 1) * V, ids.length * V));
  });
}

describe("GPT-2 KV-cache decoder", () => {
  test("prompt + incremental steps give the same logits as full forward passes", () => {
    const model = new GPT2(cfg, 3);
    const dec = new Gpt2Decoder(model);
    const ids = [5, 17, 3, 88, 42, 7, 1, 60, 33, 2];
    let logits = dec.step(Int32Array.from(ids.slice(0, 4)), 1, 4);
    for (let t = 4; t <= ids.length; t++) {
      const want = fullLogits(model, ids.slice(0, t));
      let maxErr = 0;
      for (let i = 0; i < want.length; i++)
        maxErr = Math.max(maxErr, Math.abs(want[i]! - logits[i]!));
      assert.ok(maxErr < 1e-4, `position ${t}: max |Δlogit| ${maxErr}`);
      if (t < ids.length) logits = dec.step(Int32Array.of(ids[t]!), 1, 1);
    }
  });

  test("batched rows are independent", () => {
    const model = new GPT2(cfg, 4);
    const a = [1, 2, 3, 4, 5];
    const b = [9, 8, 7, 6, 5];
    const dec = new Gpt2Decoder(model, 2);
    const both = dec.step(Int32Array.from([...a, ...b]), 2, 5);
    const single = new Gpt2Decoder(model, 1);
    const la = single.step(Int32Array.from(a), 1, 5);
    single.reset();
    const lb = single.step(Int32Array.from(b), 1, 5);
    for (let i = 0; i < cfg.vocabSize; i++) {
      assert.ok(Math.abs(both[i]! - la[i]!) < 1e-5);
      assert.ok(Math.abs(both[cfg.vocabSize + i]! - lb[i]!) < 1e-5);
    }
  });

  test("greedy generation equals argmax of full forward passes; seeds repeat; context is enforced", () => {
    const model = new GPT2(cfg, 5);
    const dec = new Gpt2Decoder(model);
    const prompt = [65, 66, 67];
    const g = generate(dec, bytesTok, prompt, { maxNewTokens: 8, temperature: 0 });
    const seq = [...prompt];
    for (let i = 0; i < 8; i++) {
      const l = fullLogits(model, seq);
      let best = 0;
      for (let j = 1; j < l.length; j++) if (l[j]! > l[best]!) best = j;
      seq.push(best);
    }
    assert.deepEqual(g.tokens, seq.slice(3));
    const s1 = generate(dec, bytesTok, prompt, { maxNewTokens: 10, temperature: 1, seed: 9 });
    const s2 = generate(dec, bytesTok, prompt, { maxNewTokens: 10, temperature: 1, seed: 9 });
    assert.deepEqual(s1.tokens, s2.tokens);
    const long = generate(dec, bytesTok, prompt, { maxNewTokens: 100, temperature: 1, seed: 1 });
    assert.equal(long.stop, "context");
    assert.equal(long.tokens.length, cfg.nCtx - prompt.length);
    assert.throws(
      () => generate(dec, bytesTok, new Array(24).fill(1), { maxNewTokens: 1 }),
      /context/,
    );
  });

  test("stop tokens and stop strings end generation; streamed text equals the result", () => {
    const model = new GPT2(cfg, 6);
    const dec = new Gpt2Decoder(model);
    const free = generate(dec, bytesTok, [65], { maxNewTokens: 12, temperature: 0 });
    const stopId = free.tokens[3]!;
    const byToken = generate(dec, bytesTok, [65], {
      maxNewTokens: 12,
      temperature: 0,
      stopTokens: [stopId],
    });
    assert.equal(byToken.stop, "stop-token");
    assert.deepEqual(byToken.tokens, free.tokens.slice(0, free.tokens.indexOf(stopId)));
    const needle = free.text.slice(5, 7);
    let streamed = "";
    const byString = generate(dec, bytesTok, [65], {
      maxNewTokens: 12,
      temperature: 0,
      stopStrings: [needle],
      onText: (t) => {
        streamed += t;
      },
    });
    assert.equal(byString.stop, "stop-string");
    assert.equal(byString.text, free.text.slice(0, free.text.indexOf(needle)));
    assert.equal(streamed, byString.text);
  });

  test("generateBatch: each row is what generate gives with its seed, stopping on its own", async () => {
    await initCompute(2); // the batched path splits over the kernel threads
    const model = new GPT2(cfg, 7);
    const one = new Gpt2Decoder(model);
    const many = new Gpt2Decoder(model, 5);
    const prompt = [70, 71];
    for (const o of [
      { maxNewTokens: 12, temperature: 1, seed: 3 },
      { maxNewTokens: 12, temperature: 0.8, topK: 20, seed: 11 },
      { maxNewTokens: 30, temperature: 1, seed: 5, repetitionPenalty: 1.3 },
    ]) {
      const rows = generateBatch(many, bytesTok, prompt, o, 5);
      for (let i = 0; i < 5; i++) {
        const want = generate(one, bytesTok, prompt, { ...o, seed: o.seed + i });
        assert.deepEqual(rows[i], want, `options ${JSON.stringify(o)}, row ${i}`);
      }
    }
    // a stop token that some rows reach and others do not
    const free = generateBatch(many, bytesTok, prompt, { maxNewTokens: 10, seed: 2 }, 5);
    const stopId = free[0]!.tokens[4]!;
    const stopped = generateBatch(
      many,
      bytesTok,
      prompt,
      {
        maxNewTokens: 10,
        seed: 2,
        stopTokens: [stopId],
      },
      5,
    );
    for (let i = 0; i < 5; i++) {
      const at = free[i]!.tokens.indexOf(stopId);
      assert.deepEqual(stopped[i]!.tokens, at < 0 ? free[i]!.tokens : free[i]!.tokens.slice(0, at));
      assert.equal(stopped[i]!.stop, at < 0 ? "length" : "stop-token");
    }
  });
});
