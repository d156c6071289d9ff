import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  attention,
  attentionPacked,
  fusedAttention,
  ropeTables,
  setFusedAttention,
} from "./attention.js";
import { type BackendName, getBackend, setBackend } from "./backend.js";
import { gradCheck, randn } from "./gradcheck.js";
import {
  add,
  crossEntropy,
  embedding,
  gelu,
  layerNorm,
  linear,
  matmul,
  mean,
  mul,
  relu2,
  rmsNorm,
  scale,
  silu,
  softmax,
  splitLast,
  sum,
  swiglu,
} from "./ops.js";
import { Rng } from "./rng.js";
import { backward, type Tensor, tensor } from "./tensor.js";
import { initCompute } from "./wasm/backend.js";

const GRAD_TOL = 1e-6; // float64 analytic vs central differences (h = 1e-6)
const F32_TOL = 2e-4; // float32 fast path vs float64, relative to max(1, |value|)

/** Every backend that loads here (CI installs OpenBLAS, so both run there). */
const BACKENDS: BackendName[] = [];

before(async () => {
  await initCompute(2);
  for (const b of ["blas", "wasm", "js"] as const) {
    try {
      setBackend(b, 2);
      BACKENDS.push(b);
    } catch {
      // not available on this machine
    }
  }
});

function check(name: string, f: (xs: Tensor[]) => Tensor, shapes: number[][], seed = 1) {
  for (const be of BACKENDS) {
    setBackend(be, 2);
    const rng = new Rng(seed);
    const r = gradCheck(
      f,
      shapes.map((s) => randn(rng, s)),
      { seed },
    );
    assert.ok(r.maxGradError < GRAD_TOL, `${name}: gradient error ${r.maxGradError}`);
    assert.ok(r.maxF32Error < F32_TOL, `${name} [${be}]: float32 error ${r.maxF32Error}`);
  }
}

test("backends: blas and wasm both load here (CI installs OpenBLAS)", () => {
  assert.ok(BACKENDS.includes("wasm"), `wasm backend missing: ${BACKENDS}`);
  if (process.env.CI) assert.ok(BACKENDS.includes("blas"), "OpenBLAS expected in CI");
  assert.ok(getBackend().name);
});

test("matmul: plain, transposed operands, batched, shared 2-D b, odd sizes", () => {
  for (const [tA, tB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const a = tA ? [2, 5, 3] : [2, 3, 5];
    const b = tB ? [2, 7, 5] : [2, 5, 7];
    check(`matmul ${tA} ${tB}`, ([x, y]) => matmul(x!, y!, { transA: tA, transB: tB }), [a, b]);
    check(`matmul shared ${tA} ${tB}`, ([x, y]) => matmul(x!, y!, { transA: tA, transB: tB }), [
      a,
      b.slice(1),
    ]);
  }
  check("matmul 1x1", ([x, y]) => matmul(x!, y!), [
    [1, 1],
    [1, 1],
  ]);
});

test("linear with and without bias", () => {
  check("linear", ([x, w, b]) => linear(x!, w!, b!), [[2, 3, 5], [7, 5], [7]]);
  check("linear + residual", ([x, w, b, r]) => linear(x!, w!, b!, r!), [
    [2, 3, 5],
    [7, 5],
    [7],
    [2, 3, 7],
  ]);
  check(
    "linear nobias + residual (the residual also used elsewhere)",
    ([x, w, r]) => add(linear(x!, w!, null, r!), r!),
    [
      [4, 5],
      [6, 5],
      [4, 6],
    ],
  );
  check("linear nobias", ([x, w]) => linear(x!, w!), [
    [3, 4],
    [1, 4],
  ]);
  // h feeds two linears: the first backward writes h's new gradient (beta 0), the second adds;
  // the bias broadcast covers a row count that is not a power of two
  check(
    "linear shared input",
    ([x, w1, w2, b]) => {
      const h = gelu(x!);
      return add(linear(h, w1!, b!), linear(h, w2!));
    },
    [[5, 3, 4], [6, 4], [6, 4], [6]],
  );
});

test("add and mul with broadcasting edge cases", () => {
  const cases: [number[], number[]][] = [
    [
      [3, 4],
      [3, 4],
    ],
    [[3, 4], [4]],
    [
      [2, 3, 4],
      [3, 4],
    ],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [
      [1, 4],
      [3, 1],
    ],
    [[5], [1]],
    [
      [2, 1, 3],
      [2, 4, 1],
    ],
    [[], [2, 3]],
  ];
  for (const [a, b] of cases) {
    check(`add ${a}|${b}`, ([x, y]) => add(x!, y!), [a, b]);
    check(`mul ${a}|${b}`, ([x, y]) => mul(x!, y!), [a, b]);
  }
});

test("activations, norms, softmax, reductions", () => {
  check("gelu", ([x]) => gelu(x!), [[3, 7]]);
  // x already has a gradient when gelu's backward runs: added to, not overwritten in place
  check("gelu + another use", ([x]) => add(gelu(x!), x!), [[3, 7]]);
  check("silu", ([x]) => silu(x!), [[3, 7]]);
  check("relu2", ([x]) => relu2(x!), [[3, 7]]);
  check("swiglu", ([g, u]) => swiglu(g!, u!), [
    [2, 5],
    [2, 5],
  ]);
  check("softmax", ([x]) => softmax(x!), [[4, 9]]);
  check("layerNorm", ([x, w, b]) => layerNorm(x!, w!, b!), [[3, 2, 7], [7], [7]]);
  check("rmsNorm", ([x, w]) => rmsNorm(x!, w!), [[5, 6], [6]]);
  check("sum", ([x]) => sum(x!), [[3, 5]]);
  check("sum last", ([x]) => sum(x!, true), [[3, 5]]);
  check("mean", ([x]) => mean(x!), [[4, 3]]);
  check("scale", ([x]) => scale(x!, -2.5), [[4]]);
  check("splitLast+reshape", ([x]) => add(splitLast(x!, [2, 3])[1]!, splitLast(x!, [4, 1])[1]!), [
    [3, 5],
  ]);
  check("reshape", ([x]) => gelu(x!.reshape([2, -1])), [[3, 4]]);
});

test("embedding gather and scatter-add (repeated ids)", () => {
  const ids = new Int32Array([3, 0, 3, 1, 3]);
  check("embedding", ([w]) => embedding(w!, ids, [5]), [[4, 6]]);
});

test("cross-entropy: plain, ignore index, weights", () => {
  const t = new Int32Array([2, 0, 4, 1]);
  check("ce", ([x]) => crossEntropy(x!, t), [[4, 5]]);
  check("ce ignore", ([x]) => crossEntropy(x!, new Int32Array([2, -1, 4, 1])), [[4, 5]]);
  check(
    "ce overwriting its logits",
    ([x]) =>
      crossEntropy(x!, new Int32Array([2, -1, 4, 1]), {
        overwriteLogits: true,
      }),
    [[4, 5]],
  );
  check("ce ignoreIndex", ([x]) => crossEntropy(x!, t, { ignoreIndex: 0 }), [[4, 5]]);
  check(
    "ce after reshape (gradient buffer handed over)",
    ([x]) => crossEntropy(x!.reshape([4, 5]), t),
    [[2, 2, 5]],
  );
  check("ce + another use (gradient accumulated)", ([x]) => add(crossEntropy(x!, t), sum(x!)), [
    [4, 5],
  ]);
  check("ce weights", ([x]) => crossEntropy(x!, t, { weights: new Float64Array([0.5, 0, 2, 1]) }), [
    [4, 5],
  ]);
});

test("cross-entropy value matches the definition", () => {
  const logits = [1, 2, 3, 0, 0, 0];
  const x = { values: new Float64Array(logits), shape: [2, 3] };
  let ref = 0;
  ref += Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3;
  ref += Math.log(3) - 0;
  ref /= 2;
  let got = Number.NaN;
  gradCheck(
    ([z]) => {
      const l = crossEntropy(z!, new Int32Array([2, 0]));
      if (Number.isNaN(got)) got = l.data[0]!;
      return l;
    },
    [x],
    { skipF32: true, maxPerInput: 1 },
  );
  assert.ok(Math.abs(got - ref) < 1e-12);
});

test("attention: causal MHA, GQA, RoPE, odd sizes", () => {
  check("attn mha", ([q, k, v]) => attention(q!, k!, v!, { nHead: 2 }), [
    [2, 5, 6],
    [2, 5, 6],
    [2, 5, 6],
  ]);
  const rope = ropeTables(7, 4, 10000, true);
  const rope32 = ropeTables(7, 4, 10000, false);
  check(
    "attn gqa rope",
    ([q, k, v]) =>
      attention(q!, k!, v!, { nHead: 4, nKvHead: 2, rope: q!.dtype === "f64" ? rope : rope32 }),
    [
      [1, 7, 16],
      [1, 7, 8],
      [1, 7, 8],
    ],
  );
  check(
    "attn packed gqa rope",
    ([qkv]) =>
      attentionPacked(qkv!, {
        nHead: 4,
        nKvHead: 2,
        headSize: 4,
        rope: qkv!.dtype === "f64" ? rope : rope32,
      }),
    [[2, 7, 32]],
  );
  const rope128 = ropeTables(128, 4, 10000, true);
  const rope128f = ropeTables(128, 4, 10000, false);
  check(
    "attn causal blocks (T=128: two key blocks)",
    ([q, k, v]) =>
      attention(q!, k!, v!, {
        nHead: 2,
        nKvHead: 1,
        rope: q!.dtype === "f64" ? rope128 : rope128f,
      }),
    [
      [1, 128, 8],
      [1, 128, 4],
      [1, 128, 4],
    ],
  );
  // head size and T multiples of 8: float32 takes the fused wasm kernels (row tiles of 6 leave
  // tails at T = 16 and 40; group 4 puts four query heads on one kv head)
  const rope40 = ropeTables(40, 8, 10000, true);
  const rope40f = ropeTables(40, 8, 10000, false);
  check("attn fused mha", ([q, k, v]) => attention(q!, k!, v!, { nHead: 2 }), [
    [2, 16, 16],
    [2, 16, 16],
    [2, 16, 16],
  ]);
  check(
    "attn fused gqa rope",
    ([q, k, v]) =>
      attention(q!, k!, v!, { nHead: 4, nKvHead: 1, rope: q!.dtype === "f64" ? rope40 : rope40f }),
    [
      [1, 40, 32],
      [1, 40, 8],
      [1, 40, 8],
    ],
  );
  check(
    "attn fused packed gqa",
    ([qkv]) => attentionPacked(qkv!, { nHead: 2, nKvHead: 1, headSize: 16 }),
    [[2, 24, 64]],
  );
  // T = 128: two causal blocks of 64 rows; six units (batch × kv heads) shared by the threads
  check(
    "attn fused packed gqa, causal blocks",
    ([qkv]) => attentionPacked(qkv!, { nHead: 4, nKvHead: 2, headSize: 16 }),
    [[3, 128, 128]],
  );
  check("attn T=1", ([q, k, v]) => attention(q!, k!, v!, { nHead: 1 }), [
    [3, 1, 4],
    [3, 1, 4],
    [3, 1, 4],
  ]);
});

test("attention: a backward the fast path cannot take redoes the forward in the loops' layout", () => {
  const real = fusedAttention();
  const x = randn(new Rng(4), [2, 128, 192]).values;
  const run = () => {
    const qkv = tensor(x, [2, 128, 192], "f32");
    qkv.requiresGrad = true;
    const y = attentionPacked(qkv, { nHead: 2, headSize: 32 });
    backward(
      y,
      Float32Array.from({ length: y.size }, (_, i) => Math.sin(i)),
    );
    return [Float32Array.from(y.data), Float32Array.from(qkv.grad!)];
  };
  try {
    for (const be of BACKENDS.filter((b) => b !== "js")) {
      setBackend(be, 2);
      setFusedAttention(real);
      const impl = real?.();
      if (!impl) continue;
      const [y0, g0] = run();
      let calls = 0; // the forward's check passes, the backward's fails
      setFusedAttention(() => ({
        ...impl,
        supports: (...a) => calls++ === 0 && impl.supports(...a),
      }));
      const [y1, g1] = run();
      assert.equal(calls, 2, `${be}: both checks were made`);
      for (const [a, b, what] of [
        [y1, y0, "y"],
        [g1, g0, "grad"],
      ] as const) {
        let err = 0;
        for (let i = 0; i < a!.length; i++) err = Math.max(err, Math.abs(a![i]! - b![i]!));
        assert.ok(err < 1e-4, `${be} ${what}: ${err}`);
      }
    }
  } finally {
    setFusedAttention(real);
  }
});

test("shape errors name the op and the shapes", () => {
  const rng = new Rng(1);
  assert.throws(
    () =>
      gradCheck(([a, b]) => matmul(a!, b!), [randn(rng, [2, 3]), randn(rng, [4, 5])], {
        skipF32: true,
      }),
    /matmul: inner sizes differ \(3 vs 4\) \(got \[2, 3\] and \[4, 5\]\)/,
  );
  assert.throws(
    () =>
      gradCheck(([a, b]) => add(a!, b!), [randn(rng, [2, 3]), randn(rng, [2])], { skipF32: true }),
    /add: axis -1 does not broadcast \(3 vs 2\)/,
  );
});
