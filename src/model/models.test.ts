import assert from "node:assert/strict";
import { before, test } from "node:test";
import { memoryStats, scope } from "../tensor/memory.js";
import { AdamW, clipGradNorm, defaultGroups } from "../tensor/optim.js";
import { Rng } from "../tensor/rng.js";
import { backward, type Data, noGrad, type Tensor, tensor } from "../tensor/tensor.js";
import { initCompute } from "../tensor/wasm/backend.js";
import { GPT2 } from "./gpt2.js";
import { Llama } from "./llama.js";

/**
 * Block tolerances (documented): the float32 fast path (BLAS or wasm gemm, SIMD kernels) must
 * match the float64 reference within BLOCK_TOL relative to each tensor's largest magnitude, for
 * the block output, the input gradient and every parameter gradient; the float64 reference
 * itself must match central finite differences within FD_TOL.
 */
const BLOCK_TOL = 1e-4;
const FD_TOL = 1e-6;

before(async () => {
  await initCompute(2);
});

function relErr(a: Data, b: Data): number {
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return m / Math.max(s, 1e-30);
}

interface Family {
  name: string;
  make(dtype: "f32" | "f64"): { params: Tensor[]; block(x: Tensor): Tensor };
}

const B = 2;
const T = 7;
const D = 16;

const families: Family[] = [
  {
    name: "GPT-2 block",
    make(dtype) {
      const m = new GPT2({ vocabSize: 11, nCtx: T, nEmbd: D, nLayer: 1, nHead: 4 }, 3, dtype);
      // non-trivial norms and biases
      const rng = new Rng(9);
      for (const p of m.params) if (p.ndim === 1) rng.fillNormal(p.data, 0.5, 0.5);
      return { params: m.params.slice(2, 14), block: (x) => m.block(m.blocks[0]!, x) };
    },
  },
  {
    name: "Llama block (GQA 4/2, RoPE)",
    make(dtype) {
      const m = new Llama(
        { vocabSize: 11, nCtx: T, nEmbd: D, nLayer: 1, nHead: 4, nKvHead: 2, nHidden: 24 },
        3,
        dtype,
      );
      const rng = new Rng(9);
      for (const p of m.params) if (p.ndim === 1) rng.fillNormal(p.data, 0.5, 0.5);
      for (const p of m.params) if (p.ndim === 2) for (let i = 0; i < p.size; i++) p.data[i]! *= 10;
      return { params: m.params.slice(1, 10), block: (x) => m.block(m.blocks[0]!, x) };
    },
  },
];

for (const fam of families) {
  test(`${fam.name}: float32 forward+backward matches float64; float64 matches finite differences`, () => {
    const m64 = fam.make("f64");
    const m32 = fam.make("f32");
    for (let i = 0; i < m64.params.length; i++) m64.params[i]!.data.set(m32.params[i]!.data);
    const rng = new Rng(4);
    const xv = new Float64Array(B * T * D);
    rng.fillNormal(xv);
    const seed = new Float64Array(B * T * D);
    rng.fillNormal(seed);
    const run = (dtype: "f32" | "f64", m: typeof m64) => {
      const x = tensor(xv, [B, T, D], dtype);
      x.requiresGrad = true;
      const y = m.block(x);
      backward(y, dtype === "f64" ? seed : Float32Array.from(seed));
      return { x, y };
    };
    const r64 = run("f64", m64);
    const r32 = run("f32", m32);
    assert.ok(relErr(r32.y.data, r64.y.data) < BLOCK_TOL, "output");
    assert.ok(relErr(r32.x.grad!, r64.x.grad!) < BLOCK_TOL, "input grad");
    for (let i = 0; i < m64.params.length; i++) {
      const e = relErr(m32.params[i]!.grad!, m64.params[i]!.grad!);
      assert.ok(e < BLOCK_TOL, `${m64.params[i]!.name} grad error ${e}`);
    }
    // float64 analytic vs central differences, on a few entries of the input and each parameter
    const objective = () =>
      noGrad(() => {
        const y = m64.block(tensor(r64.x.data, [B, T, D], "f64"));
        let s = 0;
        for (let i = 0; i < y.size; i++) s += y.data[i]! * seed[i]!;
        return s;
      });
    const h = 1e-6;
    const probe = (data: Data, grad: Data, label: string) => {
      for (let c = 0; c < 3; c++) {
        const j = rng.int(data.length);
        const old = data[j]!;
        data[j] = old + h;
        const fp = objective();
        data[j] = old - h;
        const fm = objective();
        data[j] = old;
        const num = (fp - fm) / (2 * h);
        const err = Math.abs(num - grad[j]!) / Math.max(1, Math.abs(num));
        assert.ok(err < FD_TOL, `${label}[${j}]: analytic ${grad[j]} vs numeric ${num}`);
      }
    };
    probe(r64.x.data, r64.x.grad!, "x");
    for (const p of m64.params) probe(p.data, p.grad!, p.name);
  });
}

test("GPT-2 trains (loss falls) and a step allocates nothing new after warm-up", () => {
  const cfg = { vocabSize: 32, nCtx: 16, nEmbd: 32, nLayer: 2, nHead: 4 };
  const m = new GPT2(cfg, 1);
  assert.equal(m.params.length, 2 + 12 * 2 + 2);
  const opt = new AdamW(defaultGroups(m.params, 0.1), { lr: 1e-2 });
  const ids = new Int32Array(2 * 16).map((_, i) => (i * 7) % 32);
  const tg = new Int32Array(2 * 16).map((_, i) => (i * 7 + 7) % 32);
  const losses: number[] = [];
  const carved: number[] = [];
  for (let s = 0; s < 12; s++) {
    scope(() => {
      const l = m.loss(ids, tg, 2, 16);
      opt.zeroGrad();
      backward(l);
      losses.push(l.item());
    });
    clipGradNorm(m.params, 1);
    opt.step();
    carved.push(memoryStats().carvedBytes);
  }
  assert.ok(Math.abs(losses[0]! - Math.log(32)) < 0.2, `first loss ${losses[0]} ≈ ln 32`);
  assert.ok(losses[11]! < losses[0]! - 1, `loss fell: ${losses[0]} → ${losses[11]}`);
  assert.equal(carved[11], carved[2], "memory grew after warm-up");
});

test("Llama forward gives [B, T, V] logits and a finite loss", () => {
  const m = new Llama({
    vocabSize: 13,
    nCtx: 8,
    nEmbd: 16,
    nLayer: 2,
    nHead: 4,
    nKvHead: 1,
    nHidden: 32,
  });
  const ids = new Int32Array(16).map((_, i) => i % 13);
  scope(() => {
    const logits = noGrad(() => m.forward(ids, 2, 8));
    assert.deepEqual(logits.shape, [2, 8, 13]);
    const l = m.loss(ids, ids, 2, 8);
    assert.ok(Number.isFinite(l.item()));
    backward(l);
    assert.ok(m.params.every((p) => p.grad !== null));
  });
});

test("same seed, same backend: bit-identical training losses (with dropout)", () => {
  const run = () => {
    const cfg = { vocabSize: 40, nCtx: 12, nEmbd: 24, nLayer: 1, nHead: 3, dropout: 0.1 };
    const m = new GPT2(cfg, 5);
    const opt = new AdamW(defaultGroups(m.params, 0.1), { lr: 1e-2 });
    const ids = new Int32Array(3 * 12).map((_, i) => (i * 5) % 40);
    const out: number[] = [];
    for (let s = 0; s < 3; s++) {
      scope(() => {
        const l = m.loss(ids, ids, 3, 12);
        opt.zeroGrad();
        backward(l);
        out.push(l.item());
      });
      opt.step();
    }
    return out;
  };
  assert.deepEqual(run(), run());
});
