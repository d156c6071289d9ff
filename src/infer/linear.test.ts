import assert from "node:assert/strict";
import { before, test } from "node:test";
import { getBackend } from "../tensor/backend.js";
import { alloc } from "../tensor/memory.js";
import { Rng } from "../tensor/rng.js";
import { initCompute, kernelPool } from "../tensor/wasm/backend.js";
import { linearInto } from "./linear.js";

before(async () => {
  await initCompute(2);
});

/** y (=|+=) x·Wᵀ + bias in float64 loops. */
function reference(x: Float32Array, rows: number, nIn: number, W: Float32Array, nOut: number) {
  const y = new Float64Array(rows * nOut);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < nOut; j++) {
      let s = 0;
      for (let i = 0; i < nIn; i++) s += x[r * nIn + i]! * W[j * nIn + i]!;
      y[r * nOut + j] = s;
    }
  }
  return y;
}

test("decode linear: one row, a few rows (column chunks over the pool's threads), a prompt", () => {
  const rng = new Rng(3);
  // on the BLAS backend the 2–16 row cases run as column chunks split over the kernel pool
  if (getBackend().name === "blas") assert.ok((kernelPool()?.threads ?? 1) > 1);
  for (const [rows, nIn, nOut] of [
    [1, 64, 200],
    [2, 256, 777],
    [8, 256, 1000],
    [16, 96, 130],
    [40, 64, 50],
  ] as const) {
    const x = alloc(rows * nIn);
    const W = alloc(nOut * nIn);
    const bias = alloc(nOut);
    rng.fillNormal(x);
    rng.fillNormal(W);
    rng.fillNormal(bias);
    const want = reference(x, rows, nIn, W, nOut);
    for (const [withBias, accumulate] of [
      [false, false],
      [true, false],
      [true, true],
    ] as const) {
      const y = alloc(rows * nOut);
      y.fill(0.25);
      linearInto(x, rows, nIn, W, nOut, withBias ? bias : null, y, accumulate);
      let err = 0;
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < nOut; j++) {
          const w = want[r * nOut + j]! + (withBias ? bias[j]! : 0) + (accumulate ? 0.25 : 0);
          err = Math.max(err, Math.abs(y[r * nOut + j]! - w) / Math.max(1, Math.abs(w)));
        }
      }
      assert.ok(err < 1e-4, `rows ${rows}, bias ${withBias}, accumulate ${accumulate}: ${err}`);
    }
  }
});
