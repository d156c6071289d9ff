import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import { loadKnowledge } from "../knowledge/load.js";
import type { Relation } from "../knowledge/types.js";
import { fixtureKnowledge } from "../tasks/test-fixtures.js";
import { UserError } from "../util/errors.js";
import { RunDir } from "../util/run-dir.js";
import { buildSearchIndex } from "./build.js";
import { passageTexts, splitTitle, wordCount } from "./passages.js";
import { factQuery, referencePassages, referenceText } from "./reference.js";
import { queryTerms } from "./search-index.js";
import { INDEX_FILES, loadRunIndex, loadSearchIndex, runIndexDir } from "./store.js";

const root = mkdtempSync(join(tmpdir(), "chatforge-search-"));
after(() => rmSync(root, { recursive: true, force: true }));

const sentence = (i: number) =>
  `Sentence number ${i} talks about whales, ships and the long voyage across the sea.`;

const DOCS = [
  {
    id: "d0",
    url: "https://books.example/moby/1.html",
    text: `Moby-Dick — Chapter 1. Loomings.\n${Array.from({ length: 30 }, (_, i) => sentence(i)).join(" ")}\nCall me Ishmael. Some years ago I went to sea.`,
  },
  {
    id: "d1",
    url: "https://atlas.example/europe.html",
    text: "Countries of Europe at a glance\nThe capital of France is Paris. Most people in Germany speak German.\nNorway uses the Norwegian krone as its currency.",
  },
  {
    id: "d2",
    url: "https://lists.example/mail/1.html",
    text: "Re: harpoon prices\nThe harpoon supplier in Nantucket raised prices again this winter, and the\ncaptain is not pleased about it at all.",
  },
];

function makeRun(name: string, docs = DOCS): RunDir {
  const run = new RunDir(name, root);
  const lines = docs.map((d) =>
    JSON.stringify({ ...d, source: "x", language: "en", language_score: 1 }),
  );
  writeFileSync(join(run.dir("data"), "clean-00000.jsonl.gz"), gzipSync(`${lines.join("\n")}\n`));
  return run;
}

async function build(run: RunDir, kb = fixtureKnowledge()) {
  return buildSearchIndex({
    dataDir: run.path("data"),
    outDir: runIndexDir(run),
    run: run.name,
    kb,
    quiet: true,
  });
}

test("passages: a few sentences each, at paragraph boundaries, never over the maximum", () => {
  const { title, body } = splitTitle(DOCS[0]!.text, DOCS[0]!.url);
  assert.equal(title, "Moby-Dick — Chapter 1. Loomings.");
  const texts = passageTexts(body, { minWords: 60, maxWords: 120 });
  assert.ok(texts.length >= 3, `${texts.length} passages`);
  for (const t of texts) assert.ok(wordCount(t) <= 120 + 20, `${wordCount(t)} words`);
  for (const t of texts.slice(0, -1)) assert.ok(wordCount(t) >= 60, `${wordCount(t)} words`);
  // no sentence is cut: every passage starts a sentence and ends one
  for (const t of texts) assert.match(t, /^[A-Z].*[.!?]$/);
  assert.equal(texts.join(" ").split(/\s+/).length, body.split(/\s+/).filter(Boolean).length);
  // a long run-on line is cut by words
  const long = passageTexts(Array.from({ length: 300 }, () => "word").join(" "));
  assert.deepEqual(
    long.map((t) => wordCount(t)),
    [120, 120, 60],
  );
  // a body that is one line of text has no separate title
  assert.equal(splitTitle("Just one line.", "url").title, "url");
});

test("reference passages: one per entity, stating every fact", () => {
  const kb = fixtureKnowledge();
  const ps = referencePassages(kb, 10);
  assert.equal(ps.length, kb.entities.length);
  assert.equal(ps[0]!.id, 10);
  for (const [i, e] of kb.entities.entries()) {
    const p = ps[i]!;
    assert.equal(p.entity, e.key);
    assert.equal(p.title, e.name);
    for (const f of e.facts)
      assert.ok(p.text.includes(f.value), `${e.key}: ${f.value} in ${p.text}`);
  }
  const france = kb.entities.find((e) => e.key === "country:france")!;
  assert.equal(
    referenceText(france),
    "France is a country in Europe. The capital of France is Paris. The main language of France is French. The currency of France is the Euro.",
  );
  const iron = kb.entities.find((e) => e.key === "element:iron")!;
  assert.match(referenceText(iron), /Iron has been known since ancient times\./);
  assert.equal(factQuery("capital", "Chad"), "capital of Chad");
});

test("index: builds on a small run, finds passages, saves and loads back the same", async () => {
  const run = makeRun("small");
  const idx = await build(run);
  const kb = fixtureKnowledge();
  assert.equal(idx.meta.counts.referencePassages, kb.entities.length);
  assert.equal(idx.meta.counts.docs, 3);
  assert.equal(idx.meta.counts.passages, idx.passages.length);
  assert.equal(idx.meta.sources.clean[0]!.docs, 3);
  assert.match(idx.meta.configHash, /^[0-9a-f]{16}$/);

  const top = idx.search("capital of France", 3);
  assert.equal(top[0]!.passage.entity, "country:france");
  assert.ok(
    top.some((h) => h.passage.doc === "d1"),
    "the corpus page is found too",
  );
  assert.equal(idx.search("harpoon Nantucket", 1)[0]!.passage.doc, "d2");
  assert.equal(idx.search("Ishmael", 1)[0]!.passage.doc, "d0");
  assert.deepEqual(idx.search("what is the", 3), []);
  assert.deepEqual(idx.search("", 3), []);
  assert.deepEqual(idx.search("xyzzy", 3), []);
  assert.deepEqual(queryTerms("What is the capital of Brasília?"), ["capital", "brasilia"]);
  // accents and case do not matter
  assert.equal(idx.search("BRASILIA capital", 1)[0]!.passage.entity, "country:brazil");

  const back = loadRunIndex(run);
  assert.deepEqual(back.passages, idx.passages);
  assert.deepEqual(back.meta, idx.meta);
  for (const q of ["capital of France", "whales voyage sea", "Norwegian krone", "Mercury liquid"]) {
    assert.deepEqual(back.search(q, 5), idx.search(q, 5), q);
  }
  assert.equal(back.referenceOf("element:iron")?.title, "Iron");
});

test("index: a missing index and a corrupt one are user errors that say what to do", async () => {
  const missing = new RunDir("nothing", root);
  assert.throws(
    () => loadRunIndex(missing),
    (e: unknown) =>
      e instanceof UserError &&
      e.message.startsWith("no search index for run nothing") &&
      e.hint === "build it with `chatforge index build --run nothing`",
  );
  const run = makeRun("broken");
  await build(run);
  const dir = runIndexDir(run);
  const corruptWith = (file: string, edit: (s: string) => string, pattern: RegExp) => {
    const p = join(dir, file);
    const saved = readFileSync(p, "utf8");
    writeFileSync(p, edit(saved));
    assert.throws(
      () => loadSearchIndex(dir, "broken"),
      (e: unknown) =>
        e instanceof UserError &&
        e.message.includes(p) &&
        pattern.test(e.message) &&
        (e.hint ?? "").includes("chatforge index build --run broken"),
      file,
    );
    writeFileSync(p, saved);
  };
  corruptWith(INDEX_FILES.meta, (s) => s.slice(0, 40), /not valid JSON/);
  corruptWith(INDEX_FILES.passages, (s) => s.slice(0, -30), /bytes, meta.json says/);
  corruptWith(INDEX_FILES.passages, (s) => `x${s.slice(1)}`, /line 1 is not valid JSON/);
  corruptWith(INDEX_FILES.mini, (s) => `${s.slice(0, -5)}!@#$%`, /cannot be read/);
  rmSync(join(dir, INDEX_FILES.mini));
  assert.throws(() => loadSearchIndex(dir, "broken"), /minisearch\.json is missing/);
  // no clean text yet
  await assert.rejects(
    buildSearchIndex({
      dataDir: join(root, "none"),
      outDir: join(root, "none-index"),
      run: "none",
      quiet: true,
    }),
    (e: unknown) => e instanceof UserError && /no clean-\*\.jsonl\.gz/.test(e.message),
  );
});

test("index: a fact's lookup query finds its entity's reference passage (whole knowledge base)", async () => {
  // one fact per entity (its relations in turn), to keep the test to a few seconds
  const kb = loadKnowledge();
  const run = makeRun("recall");
  const idx = await build(run, kb);
  const RELS: Relation[] = [
    "capital",
    "continent",
    "language",
    "currency",
    "symbol",
    "atomic-number",
    "standard-state",
    "year-discovered",
    "birth-year",
    "death-year",
    "country",
  ];
  let n = 0;
  let at1 = 0;
  let at3 = 0;
  const t0 = performance.now();
  for (const [i, e] of kb.entities.entries()) {
    const rels = RELS.filter((rel) => e.facts.some((f) => f.relation === rel));
    if (rels.length === 0) continue;
    {
      const rel = rels[i % rels.length]!;
      const hits = idx.search(factQuery(rel, e.name), 3);
      const at = hits.findIndex((h) => h.passage.entity === e.key);
      n++;
      if (at === 0) at1++;
      if (at >= 0) at3++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const r1 = at1 / n;
  const r3 = at3 / n;
  console.log(
    `search recall over ${kb.entities.length} entities, ${n} fact queries: @1 ${(100 * r1).toFixed(1)}%, @3 ${(100 * r3).toFixed(1)}% (${Math.round(n / seconds)} queries/s)`,
  );
  assert.ok(r1 >= 0.95, `recall@1 ${r1}`);
  assert.ok(r3 >= 0.98, `recall@3 ${r3}`);
});
