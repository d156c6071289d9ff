import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GPT2 } from "../model/gpt2.js";
import { Llama } from "../model/llama.js";
import { initCompute } from "../tensor/wasm/backend.js";
import type { SlotDecoder } from "./decoder.js";
import { Gpt2Decoder } from "./gpt2-decoder.js";
import { LlamaDecoder } from "./llama-decoder.js";

const V = 61;
const gpt2 = () => new GPT2({ vocabSize: V, nCtx: 24, nEmbd: 32, nLayer: 2, nHead: 4 }, 7);
const llama = () =>
  new Llama({ vocabSize: V, nCtx: 24, nEmbd: 32, nLayer: 2, nHead: 4, nKvHead: 2, nHidden: 48 }, 8);

/** Logits after feeding `ids` to a fresh single-row decoder, token by token after a prefix. */
function alone(dec: SlotDecoder, prefix: number[], rest: number[]): Float32Array[] {
  dec.reset();
  const out = [dec.step(Int32Array.from(prefix), 1, prefix.length)];
  for (const id of rest) out.push(dec.step(Int32Array.of(id), 1, 1));
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const [name, make] of [
  ["gpt2", (batch: number) => new Gpt2Decoder(gpt2(), batch)],
  ["llama", (batch: number) => new LlamaDecoder(llama(), batch)],
] as const) {
  describe(`${name} decoder: feed (each slot at its own position)`, () => {
    for (const backend of ["kernels as loaded", "wasm kernels"] as const) {
      test(`rows of different lengths, mixed prefill and decode, equal running each alone (${backend})`, async () => {
        if (backend === "wasm kernels") await initCompute(2);
        const rows = [
          { prefix: [1, 2, 3, 4, 5, 6, 7], rest: [9, 10, 11] },
          { prefix: [20, 21], rest: [22, 23, 24, 25, 26] },
          { prefix: [30, 31, 32, 33], rest: [34, 35] },
        ];
        const single = make(1);
        const want = rows.map((r) => alone(single, r.prefix, r.rest));
        const dec = make(4);
        // slot 3 is used and cleared first: a reused slot must not see its old tokens
        dec.feed([{ slot: 3, ids: [40, 41, 42, 43, 44] }]);
        dec.clearSlot(3);
        // step 0: rows 0 and 1 prefill together (different lengths); row 2 joins a step later
        let got = dec.feed([
          { slot: 3, ids: rows[0]!.prefix },
          { slot: 1, ids: rows[1]!.prefix },
        ]);
        assert.ok(maxDiff(got.subarray(0, V), want[0]![0]!) < 1e-5);
        assert.ok(maxDiff(got.subarray(V, 2 * V), want[1]![0]!) < 1e-5);
        const slots = [3, 1, 0];
        const at = [1, 1, 0];
        for (let step = 0; step < 6; step++) {
          const parts: { slot: number; ids: number[] }[] = [];
          const who: number[] = [];
          rows.forEach((r, i) => {
            if (i === 2 && step === 0) return;
            if (i === 2 && at[2] === 0) {
              parts.push({ slot: slots[i]!, ids: r.prefix });
            } else if (at[i]! - 1 < r.rest.length) {
              parts.push({ slot: slots[i]!, ids: [r.rest[at[i]! - 1]!] });
            } else return;
            who.push(i);
          });
          if (parts.length === 0) break;
          got = dec.feed(parts);
          who.forEach((i, j) => {
            const w = want[i]![at[i]!]!;
            const d = maxDiff(got.subarray(j * V, (j + 1) * V), w);
            assert.ok(d < 1e-5, `row ${i} position ${at[i]}: max |Δlogit| ${d}`);
            at[i]!++;
          });
        }
        assert.deepEqual(at, [4, 6, 3]);
        assert.equal(dec.slotPos[1], rows[1]!.prefix.length + rows[1]!.rest.length);
      });
    }

    test("a slot fed past the context is a UserError; a bad slot is a bug", () => {
      const dec = make(2);
      assert.throws(
        () => dec.feed([{ slot: 0, ids: new Array(25).fill(1) }]),
        /exceeds the model's context of 24/,
      );
      assert.throws(() => dec.feed([{ slot: 2, ids: [1] }]), /slot 2 outside/);
      assert.throws(
        () =>
          dec.feed([
            { slot: 0, ids: [1] },
            { slot: 0, ids: [2] },
          ]),
        /fed twice/,
      );
    });
  });
}
