import assert from "node:assert/strict";
import { test } from "node:test";
import { add, gelu, linear, mul, scale, sum } from "./ops.js";
import { AdamW, clipGradNorm, defaultGroups, gradNorm, schedule } from "./optim.js";
import { Rng } from "./rng.js";
import { backward, noGrad, parameter, setCheckFinite, tapeLength, tensor } from "./tensor.js";

test("rng: same seed, same numbers; different seeds differ; moments are right", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xa = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(
    xa,
    Array.from({ length: 5 }, () => b.nextU32()),
  );
  assert.notDeepEqual(
    xa,
    Array.from({ length: 5 }, () => c.nextU32()),
  );
  const r = new Rng(7);
  const n = 20000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = r.normal();
    s += v;
    s2 += v * v;
  }
  assert.ok(Math.abs(s / n) < 0.03 && Math.abs(s2 / n - 1) < 0.05);
  const u = new Rng(1);
  for (let i = 0; i < 1000; i++) {
    const v = u.uniform();
    assert.ok(v >= 0 && v < 1);
  }
});

test("noGrad records nothing; gradients accumulate over uses", () => {
  const w = parameter([3], "w");
  w.data.set([1, 2, 3]);
  noGrad(() => sum(mul(w, w)));
  assert.equal(tapeLength(), 0);
  const l = add(sum(mul(w, w)), sum(scale(w, 2)));
  backward(l);
  assert.deepEqual(Array.from(w.grad!), [4, 6, 8]);
});

test("check-finite mode names the first op that produced a NaN/Inf", () => {
  const x = tensor([1, 2], [1, 2]);
  const w = tensor([Number.POSITIVE_INFINITY, 0, 0, 0], [2, 2]);
  setCheckFinite(true);
  try {
    assert.throws(() => gelu(linear(x, w)), /^Error: linear: produced Infinity at flat index 0/);
  } finally {
    setCheckFinite(false);
  }
  assert.doesNotThrow(() => gelu(linear(x, w)));
});

test("AdamW: one step by hand; no decay on 1-D parameters; clipping", () => {
  const w = parameter([1, 2], "w");
  const b = parameter([2], "b");
  w.data.set([1, -1]);
  b.data.set([1, -1]);
  w.ensureGrad().set([0.5, -2]);
  b.ensureGrad().set([0.5, -2]);
  const groups = defaultGroups([w, b], 0.1);
  assert.deepEqual(
    groups.map((g) => g.params.length),
    [1, 1],
  );
  const opt = new AdamW(groups, { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8 });
  opt.step();
  // first step: m̂ = g, v̂ = g², update = lr · sign(g) (+ lr·wd·p for the decayed group)
  const want = (p: number, g: number, wd: number) => p - 0.01 * (g / (Math.abs(g) + 1e-8) + wd * p);
  assert.ok(Math.abs(w.data[0]! - want(1, 0.5, 0.1)) < 1e-6);
  assert.ok(Math.abs(w.data[1]! - want(-1, -2, 0.1)) < 1e-6);
  assert.ok(Math.abs(b.data[0]! - want(1, 0.5, 0)) < 1e-6);
  const n = clipGradNorm([w, b], 1);
  assert.ok(Math.abs(n - Math.sqrt(2 * (0.25 + 4))) < 1e-5);
  assert.ok(Math.abs(gradNorm([w, b]) - 1) < 1e-4);
});

test("schedules: warm-up, cosine, linear, constant-then-decay", () => {
  const cos = schedule("cosine", { lr: 1, steps: 110, warmup: 10, minRatio: 0.1 });
  assert.ok(Math.abs(cos(0) - 0.1) < 1e-12);
  assert.ok(Math.abs(cos(9) - 1) < 1e-12);
  assert.ok(Math.abs(cos(10) - 1) < 1e-12);
  assert.ok(Math.abs(cos(60) - 0.55) < 1e-12);
  assert.ok(Math.abs(cos(110) - 0.1) < 1e-12);
  const lin = schedule("linear", { lr: 2, steps: 10 });
  assert.ok(Math.abs(lin(5) - 1) < 1e-12);
  const wsd = schedule("constant-decay", { lr: 1, steps: 100, decayFraction: 0.2 });
  assert.equal(wsd(80), 1);
  assert.ok(Math.abs(wsd(90) - 0.5) < 1e-12);
  assert.equal(schedule("constant", { lr: 3, steps: 5 })(4), 3);
});
