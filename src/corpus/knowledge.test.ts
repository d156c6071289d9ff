import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { defaultDataConfig } from "../data/config.js";
import { runLocal } from "../data/executor.js";
import { type CleanDoc, readJsonlGz } from "../data/pipeline.js";
import { loadKnowledge } from "../knowledge/load.js";
import { buildCorpus } from "./build.js";
import {
  drawMentions,
  KNOWLEDGE_PAGES_FILE,
  type KnowledgePageRecord,
  planPages,
  renderKnowledgePage,
  statedEntities,
} from "./sources/knowledge.js";

test("mention draw: long-tailed, seeded, every entity at least once", () => {
  const kb = loadKnowledge();
  const draw = drawMentions(kb.entities, 1);
  const v = [...draw.values()].sort((a, b) => b - a);
  const ones = v.filter((x) => x === 1).length;
  console.log(
    `pages per entity: top ${v.slice(0, 10).join(", ")}; ${v.filter((x) => x >= 50).length} on 50+ pages, ${ones} of ${v.length} on one`,
  );
  assert.equal(draw.size, kb.entities.length);
  assert.ok(v.filter((x) => x >= 50).length >= 3, "a few entities on 50+ pages");
  assert.ok(ones / v.length > 0.5, "most on one page");
  assert.deepEqual(drawMentions(kb.entities, 1), draw);
  assert.notDeepEqual(drawMentions(kb.entities, 2), draw);
  // the pages realise the draw (entities on too small pages may be added once more)
  const plans = planPages(kb);
  const got = new Map<string, number>();
  for (const p of plans) {
    assert.equal(new Set(p.entities.map((e) => e.key)).size, p.entities.length);
    for (const e of p.entities) got.set(e.key, (got.get(e.key) ?? 0) + 1);
  }
  for (const [k, n] of draw) assert.ok((got.get(k) ?? 0) >= n, k);
});

test("knowledge pages survive the data pipeline (filters + MinHash dedup), ≥ 95% kept, and state their facts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-know-"));
  try {
    const s = await buildCorpus({
      outDir: join(dir, "corpus"),
      packaged: ["knowledge"],
      htmlDirs: [],
      warcs: [],
      jsonls: [],
      files: 2,
      quiet: true,
    });
    const records = readFileSync(join(dir, "corpus", KNOWLEDGE_PAGES_FILE), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as KnowledgePageRecord);
    assert.equal(records.length, s.documents);
    assert.equal(s.sources.knowledge?.documents, s.documents);
    assert.equal(s.knowledge?.pages, s.documents);
    const inputs = s.files.map((f) => join(dir, "corpus", f.name));
    await runLocal(defaultDataConfig(inputs, join(dir, "data"), 2), { quiet: true, workers: 0 });
    const clean: CleanDoc[] = readdirSync(join(dir, "data"))
      .filter((n) => /^clean-\d+\.jsonl\.gz$/.test(n))
      .sort()
      .flatMap((n) => readJsonlGz<CleanDoc>(join(dir, "data", n)));
    const kept = clean.length / s.documents;
    const bytes = clean.reduce((a, d) => a + Buffer.byteLength(d.text), 0);
    const byUrl = new Map(records.map((r) => [r.url, r]));
    let stated = 0;
    let total = 0;
    for (const d of clean) {
      const r = byUrl.get(d.url);
      assert.ok(r, `clean document ${d.url} has its sidecar line`);
      stated += statedEntities(d.text, r).length;
      total += r.entities.length;
    }
    console.log(
      `knowledge pages: ${s.documents} written, ${clean.length} kept (${(100 * kept).toFixed(1)}%), ${(bytes / 1e6).toFixed(2)} MB clean; ${stated} of ${total} entity mentions still stated`,
    );
    assert.ok(kept >= 0.95, `kept ${kept}`);
    assert.ok(stated / total >= 0.95);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--limit bounds the knowledge pages and the sidecar lists exactly the pages written", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-know-"));
  try {
    const s = await buildCorpus({
      outDir: dir,
      packaged: ["knowledge"],
      htmlDirs: [],
      warcs: [],
      jsonls: [],
      files: 1,
      limitPerSource: 25,
      quiet: true,
    });
    assert.equal(s.documents, 25);
    const lines = readFileSync(join(dir, KNOWLEDGE_PAGES_FILE), "utf8").split("\n").filter(Boolean);
    assert.equal(lines.length, 25);
    const kb = loadKnowledge();
    const plans = planPages(kb).slice(0, 25);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as KnowledgePageRecord).url),
      plans.map((p) => renderKnowledgePage(p).url),
    );
    assert.ok(readdirSync(dir).every((n) => !n.includes(".tmp")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
