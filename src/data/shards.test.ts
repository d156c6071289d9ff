import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  encodeShard,
  HEADER_BYTES,
  MAGIC_U16,
  MAGIC_U32,
  readShard,
  readShardHeader,
  ShardWriter,
} from "./shards.js";

test("uint16 shard: llm.c header (magic 20240520, version 1, count) then little-endian tokens", () => {
  const buf = encodeShard([50256, 1, 2, 65535], 65536);
  const h = new Int32Array(buf.buffer, buf.byteOffset, 256);
  assert.equal(h[0], MAGIC_U16);
  assert.equal(h[1], 1);
  assert.equal(h[2], 4);
  assert.ok(h.slice(3).every((x) => x === 0));
  assert.equal(buf.length, HEADER_BYTES + 8);
  assert.deepEqual([...buf.subarray(HEADER_BYTES, HEADER_BYTES + 4)], [0x50, 0xc4, 1, 0]);
});

test("uint32 shard for vocabularies over 65,536 (magic 20240801, version 7)", () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-shard-"));
  try {
    const p = join(dir, "x.bin");
    writeFileSync(p, encodeShard([100276, 0, 70000], 100277));
    const h = readShardHeader(p);
    assert.deepEqual(h, { magic: MAGIC_U32, version: 7, tokens: 3, width: 4 });
    assert.deepEqual([...readShard(p)], [100276, 0, 70000]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tokens outside the vocabulary are refused", () => {
  assert.throws(() => encodeShard([5, 300], 256), RangeError);
});

test("ShardWriter fills shards exactly and round-trips every token", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-shard-"));
  try {
    const w = new ShardWriter(dir, "train", 1000, 7);
    const all: number[] = [];
    for (let d = 0; d < 5; d++) {
      const doc = [999, ...Array.from({ length: d + 1 }, (_, i) => d * 10 + i)];
      all.push(...doc);
      await w.add(doc);
    }
    const paths = await w.close();
    assert.equal(w.totalTokens, all.length);
    assert.deepEqual(
      paths.map((p) => p.slice(dir.length + 1)),
      ["train_000000.bin", "train_000001.bin", "train_000002.bin"],
    );
    assert.deepEqual(
      paths.map((p) => readShardHeader(p).tokens),
      [7, 7, 6],
    );
    assert.deepEqual(
      paths.flatMap((p) => [...readShard(p)]),
      all,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a truncated shard is reported, not misread", () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-shard-"));
  try {
    const p = join(dir, "t.bin");
    writeFileSync(p, encodeShard([1, 2, 3], 10).subarray(0, HEADER_BYTES + 3));
    assert.throws(() => readShardHeader(p), /truncated/);
    writeFileSync(p, Buffer.alloc(HEADER_BYTES));
    assert.throws(() => readShard(p), /not a token shard/);
    assert.ok(statSync(p).size > 0 && readFileSync(p).length === HEADER_BYTES);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
