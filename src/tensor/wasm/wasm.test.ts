import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { jsGemm, setBackend } from "../backend.js";
import { fastKernels, jsKernels } from "../kernels.js";
import { alloc, memory } from "../memory.js";
import { Rng } from "../rng.js";
import { initCompute, kernelPool } from "./backend.js";

before(async () => {
  await initCompute(2);
});
after(async () => {
  await kernelPool()?.close();
});

function rand(rng: Rng, n: number, scale = 1): Float32Array {
  const a = alloc(n);
  rng.fillNormal(a, scale);
  return a;
}
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++)
    m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}

test("wasm sgemm matches the reference for all transposes and odd sizes", () => {
  const be = setBackend("wasm", 2);
  const rng = new Rng(3);
  for (const [M, N, K] of [
    [1, 1, 1],
    [7, 9, 5],
    [13, 17, 300],
    [64, 40, 33],
    [50, 2100, 20],
  ] as const) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const A = rand(rng, M * K);
        const B = rand(rng, K * N);
        const C = rand(rng, M * N);
        const R = Float64Array.from(C);
        be.sgemm(tA, tB, M, N, K, 0.5, A, tA ? M : K, B, tB ? K : N, 0.25, C, N);
        jsGemm(tA, tB, M, N, K, 0.5, A, tA ? M : K, B, tB ? K : N, 0.25, R, N);
        assert.ok(maxRel(C, R) < 1e-4, `sgemm ${M}x${N}x${K} tA=${tA} tB=${tB}: ${maxRel(C, R)}`);
      }
    }
  }
});

test("wasm row kernels match the plain loops", () => {
  const rng = new Rng(5);
  const rows = 37;
  const C = 68;
  const n = rows * C + 3;
  const x = rand(rng, n, 3);
  const dy = rand(rng, n);
  // gelu
  const y1 = alloc(n);
  const y2 = new Float32Array(n);
  fastKernels.geluFwd(x, y1, n);
  jsKernels.geluFwd(x, y2, n);
  assert.ok(maxRel(y1, y2) < 1e-5, `gelu ${maxRel(y1, y2)}`);
  const g1 = alloc(n, true);
  const g2 = new Float32Array(n);
  fastKernels.geluBwd(x, dy, g1, n);
  jsKernels.geluBwd(x, dy, g2, n);
  assert.ok(maxRel(g1, g2) < 1e-5, `gelu bwd ${maxRel(g1, g2)}`);
  const g3 = alloc(n);
  g3.set(dy);
  fastKernels.geluBwd(x, g3, g3, n, false); // in place over dy
  assert.ok(maxRel(g3, g2) < 1e-5, `gelu bwd in place ${maxRel(g3, g2)}`);
  // with the kept sigmoid: same forward, same backward (accumulating and in place)
  const sg = alloc(n);
  const y3 = alloc(n);
  fastKernels.geluFwd(x, y3, n, sg);
  assert.ok(maxRel(y3, y2) < 1e-5, `gelu with s ${maxRel(y3, y2)}`);
  const g4 = alloc(n, true);
  fastKernels.geluBwd(x, dy, g4, n, true, sg);
  assert.ok(maxRel(g4, g2) < 1e-5, `gelu bwd from s ${maxRel(g4, g2)}`);
  g4.set(dy);
  fastKernels.geluBwd(x, g4, g4, n, false, sg);
  assert.ok(maxRel(g4, g2) < 1e-5, `gelu bwd from s in place ${maxRel(g4, g2)}`);
  // bias rows (with and without x), over both threads, odd row length (SIMD tails)
  {
    const [R, W] = [1001, 67];
    const xs = rand(rng, R * W);
    const bias = rand(rng, W);
    for (const withX of [true, false]) {
      const b1 = alloc(R * W);
      const b2 = new Float32Array(R * W);
      fastKernels.addBias(withX ? xs : null, bias, b1, R, W);
      jsKernels.addBias(withX ? xs : null, bias, b2, R, W);
      assert.deepEqual(b1, b2, `addBias (x: ${withX})`);
    }
  }
  // softmax, causal and not, odd row lengths
  for (const T of [0, 9]) {
    const s1 = alloc(rows * C);
    const s2 = new Float32Array(rows * C);
    fastKernels.softmaxFwd(x, s1, rows, C, 0.7, T);
    jsKernels.softmaxFwd(x, s2, rows, C, 0.7, T);
    assert.ok(maxRel(s1, s2) < 1e-6, `softmax T=${T} ${maxRel(s1, s2)}`);
    const d1 = alloc(rows * C);
    const d2 = new Float32Array(rows * C);
    fastKernels.softmaxBwd(s1, dy, d1, rows, C, 0.7, T);
    jsKernels.softmaxBwd(s2, dy, d2, rows, C, 0.7, T);
    assert.ok(maxRel(d1, d2) < 1e-5, `softmax bwd ${maxRel(d1, d2)}`);
  }
  // layernorm
  const w = rand(rng, C);
  const b = rand(rng, C);
  const [m1, r1, m2, r2] = [
    alloc(rows),
    alloc(rows),
    new Float32Array(rows),
    new Float32Array(rows),
  ];
  const l1 = alloc(rows * C);
  const l2 = new Float32Array(rows * C);
  fastKernels.layerNormFwd(x, w, b, l1, m1, r1, rows, C, 1e-5);
  jsKernels.layerNormFwd(x, w, b, l2, m2, r2, rows, C, 1e-5);
  assert.ok(maxRel(l1, l2) < 1e-5, `ln ${maxRel(l1, l2)}`);
  const [dx1, dw1, db1] = [alloc(rows * C, true), alloc(C, true), alloc(C, true)];
  const [dx2, dw2, db2] = [new Float32Array(rows * C), new Float32Array(C), new Float32Array(C)];
  fastKernels.layerNormBwd(dy, x, w, m1, r1, dx1, dw1, db1, rows, C);
  jsKernels.layerNormBwd(dy, x, w, m2, r2, dx2, dw2, db2, rows, C);
  assert.ok(
    maxRel(dx1, dx2) < 1e-4 && maxRel(dw1, dw2) < 1e-4 && maxRel(db1, db2) < 1e-4,
    "ln bwd",
  );
  {
    // enough rows for both threads: dw and db from one partial sum per thread
    const R = 301;
    const [xs, dys, mean, rstd] = [rand(rng, R * C), rand(rng, R * C), alloc(R), alloc(R)];
    fastKernels.layerNormFwd(xs, w, b, alloc(R * C), mean, rstd, R, C, 1e-5);
    const [gx1, gw1, gb1] = [alloc(R * C, true), alloc(C, true), alloc(C, true)];
    const [gx2, gw2, gb2] = [new Float32Array(R * C), new Float32Array(C), new Float32Array(C)];
    fastKernels.layerNormBwd(dys, xs, w, mean, rstd, gx1, gw1, gb1, R, C);
    jsKernels.layerNormBwd(dys, xs, w, mean, rstd, gx2, gw2, gb2, R, C);
    const err = Math.max(maxRel(gx1, gx2), maxRel(gw1, gw2), maxRel(gb1, gb2));
    assert.ok(err < 1e-4, `ln bwd over threads ${err}`);
  }
  // cross-entropy with ignored rows and weights
  const V = 103;
  const logits = rand(rng, rows * V, 4);
  const tg = new Int32Array(rows).map((_, i) => (i % 5 === 0 ? -1 : (i * 7) % V));
  const wts = alloc(rows);
  for (let i = 0; i < rows; i++) wts[i] = (i % 3) * 0.5;
  const [lse1, lse2] = [alloc(rows), new Float32Array(rows)];
  const f = alloc(rows);
  for (let i = 0; i < rows; i++) f[i] = 0.1 + (i % 4) * 0.05;
  const [c1, c2] = [alloc(rows * V), new Float32Array(rows * V)];
  c1.fill(0.5); // every entry gets written (ignored rows: 0)
  const t1 = fastKernels.crossEntropyFwd(logits, tg, wts, lse1, rows, V, c1, f);
  const t2 = jsKernels.crossEntropyFwd(logits, tg, wts, lse2, rows, V, c2, f);
  assert.ok(Math.abs(t1 - t2) < 1e-4 * Math.abs(t2), `ce ${t1} ${t2}`);
  assert.ok(maxRel(lse1, lse2) < 1e-5, "ce lse");
  assert.ok(maxRel(c1, c2) < 1e-5, `ce grad ${maxRel(c1, c2)}`);
  // in place over the logits
  const inPlace = alloc(rows * V);
  inPlace.set(logits);
  const t3 = fastKernels.crossEntropyFwd(inPlace, tg, wts, lse1, rows, V, inPlace, f);
  assert.ok(Math.abs(t3 - t2) < 1e-4 * Math.abs(t2), `ce in place ${t3} ${t2}`);
  assert.ok(maxRel(inPlace, c2) < 1e-5, `ce grad in place ${maxRel(inPlace, c2)}`);
  // adamw
  const N = 1001;
  const [p1, g, mm1, v1] = [rand(rng, N), rand(rng, N), alloc(N, true), alloc(N, true)];
  const [p2, mm2, v2] = [Float32Array.from(p1), new Float32Array(N), new Float32Array(N)];
  for (let t = 1; t <= 3; t++) {
    fastKernels.adamw(p1, g, mm1, v1, N, 1e-2, 0.9, 0.95, 1e-8, 0.1, 1 - 0.9 ** t, 1 - 0.95 ** t);
    jsKernels.adamw(p2, g, mm2, v2, N, 1e-2, 0.9, 0.95, 1e-8, 0.1, 1 - 0.9 ** t, 1 - 0.95 ** t);
  }
  assert.ok(maxRel(p1, p2) < 1e-5, `adamw ${maxRel(p1, p2)}`);
});

test("kernels are installed on import; re-initialising with other thread counts stays correct", async () => {
  assert.notEqual(fastKernels.geluFwd, jsKernels.geluFwd);
  const rng = new Rng(8);
  for (const threads of [3, 1, 2]) {
    await initCompute(threads);
    assert.equal(kernelPool()!.threads, threads);
    const be = setBackend("wasm", threads);
    const [M, N, K] = [400, 301, 64]; // big enough to be split over every thread
    const A = rand(rng, M * K);
    const B = rand(rng, K * N);
    const C = alloc(M * N);
    const R = new Float64Array(M * N);
    be.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C, N);
    jsGemm(false, false, M, N, K, 1, A, K, B, N, 0, R, N);
    assert.ok(maxRel(C, R) < 1e-4, `threads=${threads}: ${maxRel(C, R)}`);
  }
});

test("an error in a worker's share is reported on the calling thread, and the pool goes on", async () => {
  await initCompute(2);
  const k = kernelPool()!;
  const end = memory.buffer.byteLength;
  const n = 8192;
  // the first half of the range is inside the memory, the worker's half is past its end
  assert.throws(
    () => k.run("zero", [end - (n / 2) * 4], n, 16, 1),
    /kernel zero failed on worker 1: .*out of bounds/,
  );
  const x = alloc(n);
  x.fill(1);
  k.run("zero", [x.byteOffset], n, 16, 1);
  assert.equal(x.indexOf(1), -1);
});

test("keepAwake: the workers poll for a while, jobs still run, and the window closes", async () => {
  await initCompute(2);
  const k = kernelPool()!;
  k.keepAwake(30);
  assert.ok(k.awake());
  const x = alloc(8192);
  for (let i = 0; i < 50; i++) {
    x.fill(1);
    k.run("zero", [x.byteOffset], x.length, 16, 1); // both threads, the worker polling
    assert.equal(x.indexOf(1), -1);
  }
  await new Promise((r) => setTimeout(r, 40));
  assert.ok(!k.awake());
  x.fill(1);
  k.run("zero", [x.byteOffset], x.length, 16, 1); // the worker asleep again: woken by notify
  assert.equal(x.indexOf(1), -1);
});
