import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeText } from "./common.js";
import {
  claimedOtherAssistant,
  formatCountInWords,
  IDENTITY_TOPICS,
  identity,
  identityTemplates,
  OTHER_ASSISTANTS,
} from "./identity.js";
import type { Split, TaskExample } from "./task.js";
import { FIXTURE_IDENTITY, fixtureContext } from "./test-fixtures.js";

const ctx = fixtureContext(7);
const SPLITS: Split[] = ["train", "val", "test"];
const prompt = (e: TaskExample) => e.conversation.messages[0]!.content;
const reference = (e: TaskExample) => e.conversation.messages.at(-1)!.content;

test("identity: templates are split, every topic in every split, phrasings never shared", () => {
  const templates = SPLITS.map((s) => new Set(identityTemplates(s).map((t) => t.id)));
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 3; j++) {
      for (const t of templates[i]!)
        assert.ok(!templates[j]!.has(t), `template ${t} in two splits`);
    }
  }
  for (const s of SPLITS) {
    const topics = new Set(identityTemplates(s).map((t) => t.topic));
    assert.deepEqual([...topics].sort(), [...IDENTITY_TOPICS].sort(), `topics of ${s}`);
  }
  const bySplit = SPLITS.map((s) => identity.examples(s, ctx));
  const norm = bySplit.map((ex) => new Set(ex.map((e) => normalizeText(prompt(e)))));
  for (const p of norm[2]!) assert.ok(!norm[0]!.has(p), `test phrasing "${p}" also in train`);
  for (const p of norm[1]!) assert.ok(!norm[0]!.has(p), `val phrasing "${p}" also in train`);
  for (const ex of bySplit) {
    for (const e of ex) {
      const t = e.meta.template as string;
      assert.ok(typeof t === "string" && typeof e.meta.topic === "string");
    }
  }
});

test("identity: hundreds of distinct phrasings; every reference says chatforge, names no other assistant, is short", () => {
  const all = SPLITS.flatMap((s) => identity.examples(s, ctx));
  const distinct = new Set(all.map(prompt));
  assert.ok(distinct.size >= 500, `${distinct.size} distinct phrasings`);
  assert.ok(new Set(identity.examples("train", ctx).map(prompt)).size >= 300);
  for (const e of all) {
    const r = reference(e);
    assert.match(r, /chatforge/);
    for (const other of OTHER_ASSISTANTS) {
      assert.ok(!new RegExp(`\\b${other}\\b`, "i").test(r), `reference names ${other}: ${r}`);
    }
    assert.ok(r.split(/\s+/).length <= 30, `long reference: ${r}`);
    assert.equal(identity.score(e, r).correct, true, `reference fails: ${r}`);
    assert.equal(identity.score(e, r).details?.topicOk, true, `reference misses its topic: ${r}`);
  }
  // the run's facts are in the size and data answers
  const size = all.find((e) => e.meta.topic === "size")!;
  assert.match(reference(size), /1\.9 million parameters, 4 layers .* 256 tokens/);
  const data = all.find((e) => e.meta.topic === "data")!;
  assert.match(reference(data), /12\.4 million tokens/);
});

test("identity: deterministic for a seed, different for another", () => {
  const a = identity.examples("train", fixtureContext(7));
  const b = identity.examples("train", fixtureContext(7));
  assert.deepEqual(a, b);
  const c = identity.examples("train", fixtureContext(8));
  assert.notDeepEqual(a.map(prompt), c.map(prompt));
  // the split (which templates) does not depend on the seed
  const templates = (ex: TaskExample[]) => new Set(ex.map((e) => e.meta.template));
  assert.deepEqual(templates(a), templates(c));
});

test("identity scorer: chatforge yes, other assistants no", () => {
  const e = identity.examples("test", ctx).find((x) => x.meta.topic === "maker")!;
  const ok = identity.score(e, "I am chatforge, made by the chatforge project.");
  assert.equal(ok.correct, true);
  assert.equal(ok.details?.topicOk, true);
  const vague = identity.score(e, "I am chatforge.");
  assert.equal(vague.correct, true);
  assert.equal(vague.details?.topicOk, false);
  assert.match(vague.reason, /no topic keyword/);
  for (const bad of [
    "I am ChatGPT.",
    "I'm ChatGPT, a model by OpenAI, and sometimes chatforge.",
    "I am chatforge, made by OpenAI.",
    "Hi! This is Siri.",
    "My name is Claude.",
    "I was trained by Google.",
    "ChatGPT here, ready to help",
  ]) {
    const s = identity.score(e, bad);
    assert.equal(s.correct, false, bad);
    assert.equal(s.reward, 0);
  }
  assert.match(identity.score(e, "I am ChatGPT.").reason, /claims to be ChatGPT/);
  assert.match(identity.score(e, "I am a small model.").reason, /no "chatforge"/);
  // denials are fine
  for (const good of [
    "No, I am chatforge, not ChatGPT.",
    "I am not Claude. I am chatforge.",
    "chatforge here. I wasn't made by OpenAI.",
  ]) {
    assert.equal(identity.score(e, good).correct, true, good);
  }
  // the run's own family named as an architecture is not a claim
  assert.equal(claimedOtherAssistant("I am chatforge, a llama model.", "llama"), null);
  assert.equal(claimedOtherAssistant("I am Llama.", "llama"), "Llama");
  assert.equal(claimedOtherAssistant("I am chatforge, a GPT-2 style model."), null);
});

test("identity: formatCountInWords and the other-assistant topic", () => {
  assert.equal(formatCountInWords(1_900_000), "1.9 million");
  assert.equal(formatCountInWords(850_000), "850 thousand");
  assert.equal(formatCountInWords(123), "123");
  assert.equal(formatCountInWords(2_500_000_000), "2.5 billion");
  const others = identity.examples("train", ctx).filter((e) => e.meta.topic === "other-assistant");
  assert.ok(others.length > 20);
  assert.ok(others.some((e) => /ChatGPT|Claude|Siri|Gemini|GPT-4/.test(prompt(e))));
  for (const e of others) assert.match(reference(e), /^No, I am chatforge/);
  assert.equal(FIXTURE_IDENTITY.family, "gpt2");
});
