import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { defaultDataConfig } from "./config.js";
import { runLocal } from "./executor.js";
import type { Funnel } from "./pipeline.js";
import { type CleanDoc, layout, type RemovedDoc, readJsonlGz } from "./pipeline.js";
import { malformedRecord, type Planted, plantedCorpus, plantedWarc } from "./planted.js";

/** Writes the planted corpus as two inputs: per-record gzip WARC, and plain WARC with a broken record. */
function writePlanted(dir: string): { inputs: string[]; recs: Planted[] } {
  mkdirSync(dir, { recursive: true });
  const recs = plantedCorpus();
  const half = Math.ceil(recs.length / 2);
  const a = join(dir, "a.warc.gz");
  const b = join(dir, "b.warc");
  writeFileSync(a, plantedWarc(recs.slice(0, half), true));
  writeFileSync(
    b,
    Buffer.concat([
      plantedWarc(recs.slice(half, half + 2), false),
      malformedRecord(),
      plantedWarc(recs.slice(half + 2), false),
    ]),
  );
  return { inputs: [a, b], recs };
}

function readAll(out: string) {
  const L = layout(out);
  const removed = new Map<string, RemovedDoc>();
  for (const st of [
    "read",
    "url",
    "extract",
    "lang",
    "gopher-repetition",
    "gopher-quality",
    "c4",
    "fineweb",
    "minhash",
  ]) {
    if (!existsSync(L.removed(st))) continue;
    for (const r of readJsonlGz<RemovedDoc>(L.removed(st))) removed.set(r.url, r);
  }
  const kept = new Map<string, CleanDoc>();
  for (const t of [0, 1]) for (const d of readJsonlGz<CleanDoc>(L.clean(t))) kept.set(d.url, d);
  return { removed, kept };
}

describe("data pipeline on the planted corpus", () => {
  let dir: string;
  let recs: Planted[];
  let funnel: Funnel;
  let out: string;
  let res: ReturnType<typeof readAll>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "cf-data-"));
    const w = writePlanted(join(dir, "in"));
    recs = w.recs;
    out = join(dir, "out");
    const cfg = defaultDataConfig(w.inputs, out, 2);
    funnel = await runLocal(cfg, { workers: 0, quiet: true });
    res = readAll(out);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("every planted record ends where it should, for the stated reason", () => {
    for (const r of recs) {
      if (r.expect.stage === "kept") {
        assert.ok(
          res.kept.has(r.url),
          `${r.name} should be kept (removed: ${res.removed.get(r.url)?.reason})`,
        );
        continue;
      }
      const rm = res.removed.get(r.url);
      assert.ok(rm, `${r.name} should be removed by ${r.expect.stage}`);
      assert.equal(rm.stage, r.expect.stage, `${r.name}: stage`);
      if ("reason" in r.expect && r.expect.reason)
        assert.equal(rm.reason, r.expect.reason, `${r.name}: reason`);
      assert.ok(!res.kept.has(r.url));
    }
    // the malformed record too
    assert.equal(
      res.removed.get("https://archive.example.org/truncated")?.reason,
      "malformed-record",
    );
  });

  test("the near-duplicate and the exact duplicate name the document kept in their place", () => {
    const near = res.removed.get("https://mirror.example.net/sotu/copy-a");
    assert.match(near?.preview ?? "", /^\[duplicate of a\.warc\.gz#0\]/);
    const exact = res.removed.get("https://mirror.example.net/sotu/copy-b");
    assert.match(exact?.preview ?? "", /^\[duplicate of a\.warc\.gz#1\]/);
  });

  test("PII is scrubbed: e-mail and public IP replaced, private IP kept", () => {
    const d = res.kept.get("https://archive.example.org/sotu/pii");
    assert.ok(d);
    assert.ok(!d.text.includes("press.office@"));
    assert.ok(!d.text.includes("93.184.216.34"));
    assert.ok(d.text.includes("email@example.com"));
    assert.ok(d.text.includes("192.0.2.1"));
    assert.ok(d.text.includes("192.168.1.20"));
    const pii = funnel.stages.find((s) => s.stage === "pii");
    assert.equal(pii?.counters.emails, 1);
    assert.equal(pii?.counters.ips, 1);
  });

  test("boilerplate is gone from kept pages: banner, menu, footer, cookie line", () => {
    const d = res.kept.get("https://archive.example.org/sotu/cookies");
    assert.ok(d);
    assert.ok(!/cookie/i.test(d.text), "cookie banner and cookie notice removed");
    for (const kept of res.kept.values()) {
      assert.ok(!kept.text.includes("All rights reserved"));
      assert.ok(!kept.text.includes("About us"));
      assert.ok(!kept.text.includes("Ten facts you missed"));
      assert.ok(!kept.text.includes("dataLayer"));
      assert.equal(kept.language, "en");
      assert.ok(kept.language_score > 0.5);
      assert.ok(kept.source === "a.warc.gz" || kept.source === "b.warc");
    }
    const c4 = funnel.stages.find((s) => s.stage === "c4");
    assert.ok((c4?.counters["lines-removed"] ?? 0) >= 1);
  });

  test("the funnel adds up and is saved as JSON and SVG", () => {
    const names = funnel.stages.map((s) => s.stage);
    assert.deepEqual(names, [
      "read",
      "url",
      "extract",
      "lang",
      "gopher-repetition",
      "gopher-quality",
      "c4",
      "fineweb",
      "minhash",
      "pii",
    ]);
    assert.equal(funnel.stages[0]?.docsIn, recs.length + 1); // + the malformed record
    for (let i = 1; i < funnel.stages.length; i++) {
      const prev = funnel.stages[i - 1];
      const cur = funnel.stages[i];
      // extraction only sees HTML; everything here is HTML, so every stage takes what the last one kept
      assert.equal(cur?.docsIn, prev?.docsOut, `${cur?.stage} in = ${prev?.stage} out`);
    }
    for (const s of funnel.stages) {
      const dropped = Object.values(s.reasons).reduce((a, b) => a + b, 0);
      assert.equal(s.docsIn - s.docsOut, dropped, `${s.stage}: every drop has a reason`);
    }
    assert.equal(funnel.stages.at(-1)?.docsOut, res.kept.size);
    const saved = JSON.parse(readFileSync(join(out, "funnel.json"), "utf8")) as Funnel;
    assert.equal(saved.stages.length, funnel.stages.length);
    const svg = readFileSync(join(out, "funnel.svg"), "utf8");
    assert.match(svg, /^<svg /);
    assert.match(svg, /near-duplicate 2/);
  });

  test("a rerun skips finished tasks; a lost marker redoes only its task, byte-identically", async () => {
    const L = layout(out);
    const before = readFileSync(L.clean(1));
    const cfg = JSON.parse(readFileSync(L.config, "utf8"));
    rmSync(L.marker("finalize", 1));
    rmSync(L.clean(1));
    const t0 = readFileSync(L.marker("filter", 0), "utf8");
    await runLocal(cfg, { workers: 0, quiet: true });
    assert.deepEqual(readFileSync(L.clean(1)), before);
    assert.equal(readFileSync(L.marker("filter", 0), "utf8"), t0);
  });

  test("a rerun with fewer tasks leaves no clean shards of the old layout", async () => {
    const L = layout(out);
    const cfg = JSON.parse(readFileSync(L.config, "utf8"));
    cfg.outDir = join(dir, "out-1task");
    await runLocal(cfg, { workers: 0, quiet: true });
    assert.ok(existsSync(layout(cfg.outDir).clean(1)));
    cfg.tasks = 1;
    await runLocal(cfg, { workers: 0, quiet: true });
    assert.ok(existsSync(layout(cfg.outDir).clean(0)));
    assert.ok(!existsSync(layout(cfg.outDir).clean(1)));
    assert.equal(readJsonlGz<CleanDoc>(layout(cfg.outDir).clean(0)).length, res.kept.size);
  });

  test("switching a stage off changes the config hash and the result", async () => {
    const L = layout(out);
    const cfg = JSON.parse(readFileSync(L.config, "utf8"));
    cfg.lang.enabled = false;
    cfg.outDir = join(dir, "out-nolang");
    const f = await runLocal(cfg, { workers: 0, quiet: true });
    assert.ok(!f.stages.some((s) => s.stage === "lang"));
    const r = readAll(cfg.outDir);
    // the German page now fails later (no English stop words), not at language ID
    assert.equal(r.removed.get("https://zeitung.example.de/bibliothek")?.stage, "gopher-quality");
  });
});

describe("data pipeline on JSONL input", () => {
  test("plain-text documents skip extraction and go through the same filters", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cf-data-j-"));
    try {
      const good = plantedCorpus()[0] as Planted;
      const prose =
        (good.payload as string).match(/<p>[^<]+<\/p>/g)?.map((p) => p.slice(3, -4)) ?? [];
      const lines = [
        JSON.stringify({ text: prose.join("\n"), url: "https://j.example/good", id: "g" }),
        JSON.stringify({ text: "Kurzer deutscher Text über nichts.", url: "https://j.example/de" }),
        "{ not json",
      ];
      const p = join(dir, "in.jsonl");
      writeFileSync(p, `${lines.join("\n")}\n`);
      const cfg = defaultDataConfig([p], join(dir, "out"), 1);
      const f = await runLocal(cfg, { workers: 0, quiet: true });
      assert.deepEqual(f.stages[0]?.reasons, { "malformed-json": 1 });
      assert.ok(!f.stages.some((s) => s.stage === "extract"));
      const kept = readJsonlGz<CleanDoc>(layout(cfg.outDir).clean(0));
      assert.deepEqual(
        kept.map((d) => [d.id, d.url, d.source]),
        [["in.jsonl#g", "https://j.example/good", "in.jsonl"]],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("data pipeline on worker threads", () => {
  test("the worker pool gives the same bytes as the main thread", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cf-data-w-"));
    try {
      const { inputs } = writePlanted(join(dir, "in"));
      const a = defaultDataConfig(inputs, join(dir, "a"), 2);
      const b = defaultDataConfig(inputs, join(dir, "b"), 2);
      await runLocal(a, { workers: 0, quiet: true });
      await runLocal(b, { workers: 2, quiet: true });
      for (const t of [0, 1])
        assert.deepEqual(
          readFileSync(layout(a.outDir).clean(t)),
          readFileSync(layout(b.outDir).clean(t)),
        );
      for (const st of ["read", "lang", "minhash"]) {
        assert.deepEqual(
          readFileSync(layout(a.outDir).removed(st)),
          readFileSync(layout(b.outDir).removed(st)),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
