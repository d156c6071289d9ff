import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { jsKernels } from "../tensor/kernels.js";
import { Rng } from "../tensor/rng.js";
import { initCompute, kernelPool } from "../tensor/wasm/backend.js";
import { candidates, sampleRows, sampleToken, softmax, topProbabilities } from "./sampler.js";

const logits = Float32Array.from([2.0, 1.0, 0.5, -1.0, 3.0, 0.0]);

function frequencies(o: Parameters<typeof sampleToken>[1], n = 20000, seed = 1): number[] {
  const rng = new Rng(seed);
  const f = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) f[sampleToken(logits, o, rng)]++;
  return f.map((c) => c / n);
}

describe("sampler", () => {
  test("temperature 0 is greedy and ignores the RNG", () => {
    const rng = { uniform: () => assert.fail("greedy must not draw") };
    assert.equal(sampleToken(logits, { temperature: 0 }, rng), 4);
    assert.equal(sampleToken([1, 5, 5], { temperature: 0 }, rng), 1, "ties go to the lowest id");
  });

  test("temperature 1 draws from softmax(logits)", () => {
    const p = softmax(logits);
    const f = frequencies({});
    for (let i = 0; i < p.length; i++)
      assert.ok(Math.abs(f[i]! - p[i]!) < 0.01, `token ${i}: ${f[i]} vs ${p[i]}`);
  });

  test("lower temperature sharpens, higher flattens", () => {
    const cold = frequencies({ temperature: 0.5 });
    const hot = frequencies({ temperature: 2 });
    assert.ok(cold[4]! > softmax(logits)[4]! + 0.05);
    assert.ok(hot[4]! < softmax(logits)[4]! - 0.05);
    assert.ok(Math.abs(cold[4]! - softmax(logits, 0.5)[4]!) < 0.01);
  });

  test("top-k keeps exactly the k most probable tokens", () => {
    const c = candidates(logits, { topK: 2 });
    assert.deepEqual(c.ids, [4, 0]);
    const f = frequencies({ topK: 2 });
    assert.equal(f[1]! + f[2]! + f[3]! + f[5]!, 0);
    const e = Math.exp(1);
    assert.ok(Math.abs(f[4]! - e / (e + 1)) < 0.01);
  });

  test("top-p keeps the smallest prefix reaching p", () => {
    const p = softmax(logits);
    const c = candidates(logits, { topP: p[4]! + 0.01 });
    assert.deepEqual(c.ids, [4, 0]);
    assert.deepEqual(candidates(logits, { topP: p[4]! * 0.5 }).ids, [4]);
  });

  test("min-p drops tokens below min_p × the best probability", () => {
    const p = softmax(logits);
    const c = candidates(logits, { minP: 0.3 });
    assert.deepEqual(
      c.ids,
      [4, 0, 1].filter((i) => p[i]! >= 0.3 * p[4]!),
    );
    assert.ok(Math.abs(c.probs.reduce((a, b) => a + b) - 1) < 1e-12);
  });

  test("repetition penalty discourages tokens in the context", () => {
    assert.equal(sampleToken(logits, { temperature: 0, repetitionPenalty: 2 }, new Rng(0), [4]), 0);
    const c = candidates([1, -1], { repetitionPenalty: 2 }, [0, 1, 1]);
    const want = softmax([0.5, -2]);
    assert.ok(Math.abs(c.probs[0]! - want[0]!) < 1e-12);
  });

  test("the same seed gives the same tokens", () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 50 }, () =>
        sampleToken(logits, { temperature: 0.9, topP: 0.95 }, rng),
      );
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
  });

  test("top probabilities for --show-probs", () => {
    const t = topProbabilities(logits, 3);
    assert.deepEqual(
      t.map((x) => x.id),
      [4, 0, 1],
    );
    assert.ok(t[0]!.prob > t[1]!.prob && t[1]!.prob > t[2]!.prob);
  });

  test("bad options are range errors naming the option", () => {
    assert.throws(() => candidates(logits, { topP: 0 }), /top-p/);
    assert.throws(() => candidates(logits, { temperature: -1 }), /temperature/);
    assert.throws(() => candidates(logits, { topK: 1.5 }), /top-k/);
  });

  test("sampleRows draws the same tokens as sampleToken row by row, and as the plain loops", async () => {
    await initCompute(2);
    kernelPool()?.keepAwake(50); // so the rows are split over both threads
    const [rows, V] = [8, 1001];
    const x = new Float32Array(rows * V);
    new Rng(9).fillNormal(x, 3);
    for (const temperature of [1, 0.7]) {
      for (let trial = 0; trial < 20; trial++) {
        const seeds = Array.from({ length: rows }, (_, r) => new Rng(100 * trial + r));
        const got = sampleRows(x, rows, { temperature }, seeds);
        for (let r = 0; r < rows; r++) {
          const one = sampleToken(
            x.subarray(r * V, (r + 1) * V),
            { temperature },
            new Rng(100 * trial + r),
          );
          assert.equal(got[r], one, `trial ${trial}, row ${r}`);
        }
        // the plain-loop kernel on the same uniforms
        const u = Float64Array.from({ length: rows }, (_, r) => new Rng(100 * trial + r).uniform());
        const want = new Int32Array(rows);
        jsKernels.sampleRows(x, V, rows, V, 1 / temperature, u, new Float32Array(rows * V), want);
        assert.deepEqual(got, want, `trial ${trial}: kernel vs loops`);
      }
    }
  });
});
