import assert from "node:assert/strict";
import { test } from "node:test";
import { ChunkCache, hashChunk } from "./chunk-cache.js";

test("chunk cache: hits by offset, misses on different text, survives being emptied", () => {
  const cache = new ChunkCache(4);
  const text = "the cat the dog";
  const out: number[] = [];
  assert.equal(cache.get(text, 0, 3, hashChunk(text, 0, 3), out), false);
  out.push(5);
  cache.set("the", hashChunk(text, 0, 3), out, 0);
  out.push(7, 8);
  cache.set(" dog", hashChunk(text, 11, 15), out, 1);
  const got: number[] = [];
  assert.equal(cache.get(text, 8, 11, hashChunk(text, 8, 11), got), true); // the second "the"
  assert.equal(cache.get(text, 11, 15, hashChunk(text, 11, 15), got), true);
  assert.deepEqual(got, [5, 7, 8]);
  // Same hash forced, different text: no false hit.
  assert.equal(cache.get("tha", 0, 3, hashChunk(text, 0, 3), got), false);
  for (let i = 0; i < 10; i++) cache.set(`k${i}`, hashChunk(`k${i}`, 0, 2), [i], 0);
  assert.ok(cache.size <= 4);
  const k9: number[] = [];
  assert.equal(cache.get("k9", 0, 2, hashChunk("k9", 0, 2), k9), true);
  assert.deepEqual(k9, [9]);
});
