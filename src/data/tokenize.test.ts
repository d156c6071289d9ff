import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { openTokenizer } from "../tokenizer/index.js";
import { readShard, readShardHeader } from "./shards.js";
import { tokenizeData } from "./tokenize.js";

test("data tokenize: <|endoftext|> before each document, every k-th document in val, shards in order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-tok-"));
  try {
    const docs = Array.from(
      { length: 12 },
      (_, i) => `Document number ${i}: the quick brown fox, ${"again ".repeat(i)}done.`,
    );
    // two input files, documents in order across them
    writeFileSync(
      join(dir, "clean-00000.jsonl.gz"),
      gzipSync(
        docs
          .slice(0, 7)
          .map((t) => `${JSON.stringify({ text: t })}\n`)
          .join(""),
      ),
    );
    writeFileSync(
      join(dir, "clean-00001.jsonl.gz"),
      gzipSync(
        docs
          .slice(7)
          .map((t) => `${JSON.stringify({ text: t })}\n`)
          .join(""),
      ),
    );
    const out = join(dir, "shards");
    const s = await tokenizeData({
      dataDir: dir,
      outDir: out,
      tokenizer: "gpt2",
      valFraction: 0.25,
      shardTokens: 40,
      workers: 2,
      quiet: true,
    });
    const tok = await openTokenizer("gpt2");
    const eot = tok.specialTokenId("<|endoftext|>");
    assert.equal(s.eot, eot);
    assert.equal(s.tokenBytes, 2);
    const expect = (keep: (i: number) => boolean) =>
      docs.flatMap((d, i) => (keep(i) ? [eot, ...tok.encodeOrdinary(d)] : []));
    const read = (paths: string[]) => paths.flatMap((p) => [...readShard(p)]);
    assert.deepEqual(
      read(s.val.shards),
      expect((i) => i % 4 === 0),
    );
    assert.deepEqual(
      read(s.train.shards),
      expect((i) => i % 4 !== 0),
    );
    assert.deepEqual([s.val.docs, s.train.docs], [3, 9]);
    // full shards hold exactly 40 tokens
    for (const p of s.train.shards.slice(0, -1)) assert.equal(readShardHeader(p).tokens, 40);
    assert.match(s.train.shards[0] ?? "", /train_000000\.bin$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("data tokenize without clean text says what to run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-tok-"));
  try {
    await assert.rejects(
      tokenizeData({
        dataDir: dir,
        outDir: join(dir, "s"),
        tokenizer: "gpt2",
        valFraction: 0.01,
        shardTokens: 100,
        quiet: true,
      }),
      /no clean-\*\.jsonl\.gz files/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
