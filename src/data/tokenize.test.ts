import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { openTokenizer } from "../tokenizer/index.js";
import { readShard, readShardHeader } from "./shards.js";
import { readMentionCounts, tokenizeData } from "./tokenize.js";

const gz = (rows: unknown[]) => gzipSync(rows.map((r) => `${JSON.stringify(r)}\n`).join(""));

test("data tokenize without shuffling: <|endoftext|> before each document, every k-th document in val, shards in file order", async () => {
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
      shuffle: false,
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

test("data tokenize shuffles: every source in the first 10% of train tokens, same split, same bytes for any worker count", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-tok-"));
  try {
    // four sources, each in its own file: in file order they would arrive in blocks
    const sources = ["sotu", "moby-dick", "spam-assassin", "knowledge"];
    const texts = new Map<string, string>();
    sources.forEach((src, f) => {
      const rows = Array.from({ length: 50 }, (_, i) => {
        const text = `${src} document ${i}: ${"words of this source ".repeat(1 + (i % 5))}end.`;
        texts.set(text, src);
        return { text, source: src, url: `https://${src}.example/${i}` };
      });
      writeFileSync(join(dir, `clean-${String(f).padStart(5, "0")}.jsonl.gz`), gz(rows));
    });
    const run = (out: string, workers: number, shuffle = true) =>
      tokenizeData({
        dataDir: dir,
        outDir: join(dir, out),
        tokenizer: "gpt2",
        valFraction: 0.1,
        shardTokens: 1000,
        workers,
        quiet: true,
        shuffle,
        seed: 7,
      });
    const a = await run("a", 1);
    const b = await run("b", 2);
    const plain = await run("plain", 2, false);
    assert.equal(a.shuffleSeed, 7);
    assert.equal(plain.shuffleSeed, null);
    for (const split of ["train", "val"] as const) {
      assert.equal(a[split].shards.length, b[split].shards.length);
      a[split].shards.forEach((p, i) => {
        assert.ok(readFileSync(p).equals(readFileSync(b[split].shards[i]!)), `${p} identical`);
      });
    }
    const tok = await openTokenizer("gpt2");
    const docsOf = (paths: string[]) =>
      tok
        .decode(paths.flatMap((p) => [...readShard(p)]))
        .split("<|endoftext|>")
        .filter(Boolean);
    // the same documents in each split, in another order
    for (const split of ["train", "val"] as const) {
      assert.deepEqual(docsOf(a[split].shards).sort(), docsOf(plain[split].shards).sort());
      assert.notDeepEqual(docsOf(a[split].shards), docsOf(plain[split].shards));
    }
    // the first 10% of the train tokens hold documents of every source
    const train = a.train.shards.flatMap((p) => [...readShard(p)]);
    const head = tok.decode(train.slice(0, Math.ceil(train.length / 10)));
    const seen = new Set(
      head
        .split("<|endoftext|>")
        .map((t) => texts.get(t))
        .filter(Boolean),
    );
    assert.deepEqual([...seen].sort(), [...sources].sort());
    const headPlain = tok.decode(
      plain.train.shards.flatMap((p) => [...readShard(p)]).slice(0, Math.ceil(train.length / 10)),
    );
    assert.ok(!headPlain.includes("knowledge document"), "file order: sources in blocks");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("mentions.json: per entity, the train documents that still state one of its facts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-tok-"));
  try {
    const data = join(dir, "data");
    mkdirSync(join(dir, "corpus"), { recursive: true });
    mkdirSync(data);
    const page = (url: string, entities: [string, string, [string, string][]][]) => ({
      url,
      entities: entities.map(([key, name, facts]) => ({
        key,
        name,
        facts: facts.map(([relation, value]) => ({ relation, value })),
      })),
    });
    const pages = [
      page("https://k.example/1", [
        ["country:france", "France", [["capital", "Paris"]]],
        ["element:iron", "Iron", [["symbol", "Fe"]]],
      ]),
      page("https://k.example/2", [
        [
          "country:france",
          "France",
          [
            ["capital", "Paris"],
            ["continent", "Europe"],
          ],
        ],
        ["element:iron", "Iron", [["symbol", "Fe"]]],
      ]),
      page("https://k.example/3", [["country:peru", "Peru", [["capital", "Lima"]]]]),
      page("https://k.example/4", [
        ["person:charles-darwin", "Charles Darwin", [["birth-year", "1809"]]],
      ]),
      page("https://k.example/5", [["country:chile", "Chile", [["capital", "Santiago"]]]]),
    ];
    writeFileSync(
      join(dir, "corpus", "knowledge-pages.ndjson"),
      pages.map((p) => `${JSON.stringify(p)}\n`).join(""),
    );
    // valFraction 0.25: documents 0 and 4 go to val
    const docs = [
      { url: "https://k.example/3", text: "The capital of Peru is Lima. (in val)" },
      { url: "https://k.example/1", text: "The capital of France is Paris.\nIron is a metal." },
      {
        url: "https://other.example/x",
        text: "France, Paris, Iron and Fe, but not a knowledge page.",
      },
      { url: "https://k.example/2", text: "France lies in Europe.\nThe symbol of Iron is Fe." },
      { url: "https://k.example/4", text: "Charles Darwin was born in 1809. (in val)" },
      // page 5 was dropped by the pipeline
      {
        url: "https://k.example/4b",
        text: "Charles Darwin was born in 1809, on a page the sidecar does not know.",
      },
    ];
    writeFileSync(join(data, "clean-00000.jsonl.gz"), gz(docs));
    const s = await tokenizeData({
      dataDir: data,
      outDir: join(dir, "shards"),
      tokenizer: "gpt2",
      valFraction: 0.25,
      shardTokens: 1000,
      workers: 1,
      quiet: true,
    });
    const m = readMentionCounts(join(dir, "shards"));
    assert.deepEqual(m, {
      counts: {
        "country:chile": 0,
        "country:france": 2,
        "country:peru": 0,
        "element:iron": 1,
        "person:charles-darwin": 0,
      },
      pages: { written: 5, kept: 4, train: 2 },
    });
    assert.equal(s.mentions?.entities, 5);
    assert.throws(() => readMentionCounts(dir), /no mentions\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
