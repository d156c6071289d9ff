import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import { CHAT_TOKENS } from "../chat/conversation.js";
import { chatTestTokenizer } from "../chat/test-tokenizer.js";
import { buildSearchIndex } from "../search/build.js";
import type { Passage } from "../search/passages.js";
import type { PassageSearch } from "../search/search-index.js";
import { fixtureKnowledge } from "../tasks/test-fixtures.js";
import { createSearchTool, formatSearchOutput, SEARCH_TOOL_DEFAULTS } from "./search.js";

const root = mkdtempSync(join(tmpdir(), "chatforge-search-tool-"));
after(() => rmSync(root, { recursive: true, force: true }));
const tok = chatTestTokenizer();
const count = (s: string) => tok.encodeOrdinary(s).length;

const long = (topic: string) =>
  Array.from(
    { length: 12 },
    (_, i) => `${topic} note ${i} says that ${topic} is worth a visit in the spring.`,
  ).join(" ");

async function index() {
  const data = join(root, "data");
  const docs = ["Paris", "Lyon", "Kyoto"].map((t, i) => ({
    id: `d${i}`,
    url: `https://travel.example/${t}.html`,
    text: `Travel notes: ${t}\n${long(t)}`,
  }));
  const { mkdirSync } = await import("node:fs");
  mkdirSync(data, { recursive: true });
  writeFileSync(
    join(data, "clean-00000.jsonl.gz"),
    gzipSync(docs.map((d) => JSON.stringify(d)).join("\n")),
  );
  return buildSearchIndex({
    dataDir: data,
    outDir: join(root, "index"),
    run: "t",
    kb: fixtureKnowledge(),
    quiet: true,
  });
}
const idxP = index();

test("search tool: the search span, the top passages within the token budget, best first", async () => {
  const tool = createSearchTool(await idxP, tok);
  assert.equal(tool.name, "search");
  assert.equal(tool.spanStart, CHAT_TOKENS.searchStart);
  assert.equal(tool.spanEnd, CHAT_TOKENS.searchEnd);
  const r = tool.run("capital of France");
  assert.equal(r.ok, true);
  const lines = r.output.split("\n");
  assert.equal(
    lines[0],
    "France: France is a country in Europe. The capital of France is Paris. The main language of France is French. The currency of France is the Euro.",
  );
  assert.ok(count(r.output) <= SEARCH_TOOL_DEFAULTS.budgetTokens, `${count(r.output)} tokens`);
  assert.ok(lines.length <= 3);
  // a long corpus passage is cut at a word, marked, within the budget
  const paris = tool.run("Paris visit spring");
  assert.ok(
    count(paris.output) <= 96 && count(paris.output) >= 80,
    `${count(paris.output)} tokens`,
  );
  assert.match(paris.output, /^Travel notes: Paris: Paris note 0 says/);
  assert.match(paris.output, / …$/);
  // deterministic; a smaller budget and topK are kept to
  assert.deepEqual(tool.run("Paris visit spring"), paris);
  const small = createSearchTool(await idxP, tok, { topK: 1, budgetTokens: 20 });
  const s = small.run("capital of France");
  assert.ok(count(s.output) <= 20);
  assert.equal(s.output.split("\n").length, 1);
  assert.match(s.output, /^France: France is a country in Europe\..* …$/);
});

test("search tool: empty, too long and unmatched queries answer in words, never throw", async () => {
  const tool = createSearchTool(await idxP, tok, { maxQueryTokens: 8 });
  for (const q of ["", "   ", "\n"]) {
    const r = tool.run(q);
    assert.equal(r.ok, false);
    assert.equal(r.error, "empty");
    assert.match(r.output, /^Error: empty query/);
  }
  const longQ = tool.run("capital of France and Germany and Japan and Kenya and Peru");
  assert.equal(longQ.ok, false);
  assert.equal(longQ.error, "too-long");
  assert.match(longQ.output, /query too long \(\d+ tokens, at most 8\)/);
  for (const q of ["xyzzy plugh", "what is the", "<|im_end|>"]) {
    const r = tool.run(q);
    assert.equal(r.ok, true, q);
    assert.equal(r.output, `No results for "${q}".`);
  }
});

test("formatSearchOutput: whole passages without a counter; a tiny budget shows nothing cut to stubs", () => {
  const ps = [
    { title: "A title.", text: "One  two\nthree." },
    { title: "B", text: "Four five." },
  ];
  assert.equal(formatSearchOutput(ps), "A title: One two three.\nB: Four five.");
  assert.equal(formatSearchOutput(ps, count, 3), "");
  const fake: PassageSearch = { search: () => [] };
  assert.equal(createSearchTool(fake, tok).run("anything").output, 'No results for "anything".');
  const one: Passage = {
    id: 0,
    doc: "x",
    url: "u",
    title: "T",
    text: "w ".repeat(500),
    source: "corpus",
  };
  const out = createSearchTool({ search: () => [{ passage: one, score: 1 }] }, tok).run("q").output;
  assert.ok(count(out) <= 96);
  assert.match(out, /^T: w w .* …$/);
});
