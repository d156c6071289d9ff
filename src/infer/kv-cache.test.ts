import assert from "node:assert/strict";
import { before, test } from "node:test";
import { cachedAttention } from "../tensor/attention.js";
import { alloc, persistent } from "../tensor/memory.js";
import { Rng } from "../tensor/rng.js";
import { initCompute } from "../tensor/wasm/backend.js";
import { KvCache } from "./kv-cache.js";

before(async () => {
  await initCompute(2);
});

// The SIMD kernel (float32 buffers in the shared memory) against the plain loops (a plain
// array query), on every head size it specialises and a generic one, with GQA, several new
// positions per sequence and enough rows to be split over both threads.
test("cached attention: the SIMD kernel matches the plain loops", () => {
  assert.ok(cachedAttention(), "the wasm kernels install a cached attention");
  const rng = new Rng(3);
  const cases = [
    { hs: 4, nHead: 2, nKv: 1, B: 2, n: 3, t0: 5 },
    { hs: 12, nHead: 4, nKv: 2, B: 3, n: 1, t0: 9 },
    { hs: 16, nHead: 4, nKv: 4, B: 2, n: 2, t0: 0 },
    { hs: 32, nHead: 8, nKv: 2, B: 8, n: 1, t0: 30 },
    { hs: 64, nHead: 2, nKv: 1, B: 2, n: 40, t0: 50 }, // a prompt: both threads
  ];
  for (const { hs, nHead, nKv, B, n, t0 } of cases) {
    const nCtx = t0 + n + 3;
    const kvDim = nKv * hs;
    const d = nHead * hs;
    const stride = d + 2 * kvDim; // packed q | k | v rows, as the GPT-2 decoder has them
    const cache = new KvCache(1, B, nCtx, kvDim);
    const rows = persistent(() => alloc((t0 + n) * B * stride));
    for (let i = 0; i < rows.length; i++) rows[i] = rng.normal() * 2;
    const row = (b: number, t: number) => (b * (t0 + n) + t) * stride;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < t0 + n; t++)
        cache.put(0, b, t, rows, row(b, t) + d, rows, row(b, t) + d + kvDim);
    }
    // the n new queries of each sequence: [B, n] rows of the packed layout
    const q = persistent(() => alloc(B * n * stride));
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < n; i++)
        q.set(rows.subarray(row(b, t0 + i), row(b, t0 + i) + stride), (b * n + i) * stride);
    }
    const fast = persistent(() => alloc(B * n * d));
    const slow = new Float32Array(B * n * d);
    cache.attendInto(0, q, 0, stride, B, n, t0, nHead, nKv, hs, fast);
    cache.attendInto(0, Array.from(q), 0, stride, B, n, t0, nHead, nKv, hs, slow);
    let err = 0;
    for (let i = 0; i < slow.length; i++) err = Math.max(err, Math.abs(fast[i]! - slow[i]!));
    assert.ok(err < 2e-5, `hs ${hs}, B ${B}, n ${n}: max difference ${err}`);
  }
});
