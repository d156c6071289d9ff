import assert from "node:assert/strict";
import { test } from "node:test";
import { commonWords, spelledRuns, spelling, spellingReply, wordSplit } from "./spelling.js";
import type { Split } from "./task.js";
import { fixtureContext } from "./test-fixtures.js";

const SPLITS: Split[] = ["train", "val", "test"];

test("spelling: common words, split by word, deterministic", () => {
  const words = commonWords();
  assert.ok(words.length > 5000);
  for (const w of words.slice(0, 2000)) assert.match(w, /^[a-z]{3,10}$/);
  assert.ok(!words.includes("don"));
  const ctx = fixtureContext(5);
  const sets = SPLITS.map(
    (s) => new Set(spelling.examples(s, ctx).map((e) => e.meta.word as string)),
  );
  assert.ok(sets[0]!.size >= 2000 && sets[1]!.size >= 200 && sets[2]!.size >= 200);
  for (const w of sets[2]!) assert.ok(!sets[0]!.has(w) && !sets[1]!.has(w));
  for (const w of sets[1]!) assert.ok(!sets[0]!.has(w));
  for (const [i, s] of SPLITS.entries()) for (const w of sets[i]!) assert.equal(wordSplit(w), s);
  assert.deepEqual(spelling.examples("test", ctx), spelling.examples("test", fixtureContext(5)));
  for (const e of spelling.examples("test", ctx)) {
    const ref = e.conversation.messages[1]!.content;
    assert.equal(ref, spellingReply(e.meta.word as string));
    assert.equal(spelling.score(e, ref).correct, true);
    assert.ok(e.conversation.messages[0]!.content.includes(e.meta.word as string));
  }
});

test("spelling scorer: exact letters, any separator or case; misspellings rejected", () => {
  assert.equal(spellingReply("garden"), "garden is spelled g-a-r-d-e-n.");
  const e = { id: "x", conversation: { messages: [] }, meta: { word: "garden" } };
  for (const good of [
    "garden is spelled g-a-r-d-e-n.",
    "G-A-R-D-E-N",
    "g a r d e n",
    "It is g, a, r, d, e, n.",
    "I think it is a g-a-r-d-e-n",
  ]) {
    assert.equal(spelling.score(e, good).correct, true, good);
  }
  for (const bad of [
    "garden is spelled g-a-r-d-n.",
    "garden is spelled g-a-r-d-e-n-n.",
    "garden is spelled garden.",
    "",
  ]) {
    const s = spelling.score(e, bad);
    assert.equal(s.correct, false, bad);
    assert.ok(s.reward < 1);
  }
  assert.ok(spelling.score(e, "g-a-r-d-n").reward > 0, "near miss gets partial reward");
  assert.match(spelling.score(e, "garden").reason, /no letter-by-letter/);
  assert.deepEqual(spelledRuns("is spelled s-u-n."), ["sun"]);
});
