import assert from "node:assert/strict";
import { test } from "node:test";
import { loadKnowledge } from "../knowledge/index.js";
import { normalizeText } from "./common.js";
import {
  accuracyByMentionBucket,
  entitySplit,
  knowledgeQa,
  knowledgeQaTask,
  MENTION_BUCKETS,
  matchAnswer,
  mentionBucket,
  QA_RELATIONS,
} from "./knowledge-qa.js";
import type { Split, TaskExample } from "./task.js";
import { fixtureContext, syntheticContext } from "./test-fixtures.js";

const SPLITS: Split[] = ["train", "val", "test"];
const reply = (e: TaskExample) => e.conversation.messages.at(-1)!.content;

test("knowledge-qa: split by entity, deterministic, references score correct", () => {
  const ctx = fixtureContext(2);
  const sets = SPLITS.map((s) => new Set(knowledgeQa.examples(s, ctx).map((e) => e.meta.entity)));
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 3; j++)
      for (const k of sets[i]!) assert.ok(!sets[j]!.has(k), k as string);
  }
  for (const [i, s] of SPLITS.entries())
    for (const k of sets[i]!) assert.equal(entitySplit(k as string), s);
  const all = SPLITS.flatMap((s) => knowledgeQa.examples(s, ctx));
  assert.ok(all.length >= 100);
  assert.deepEqual(
    knowledgeQa.examples("train", ctx),
    knowledgeQa.examples("train", fixtureContext(2)),
  );
  const relations = new Set(all.map((e) => e.meta.relation));
  for (const r of QA_RELATIONS) assert.ok(relations.has(r), `no ${r} question`);
  assert.ok(!relations.has("description"));
  for (const e of all) {
    assert.equal(knowledgeQa.score(e, reply(e)).correct, true, reply(e));
    assert.ok(reply(e).split(/\s+/).length < 25);
    assert.ok(Array.isArray(e.meta.accepted) && typeof e.meta.entity === "string");
  }
  const france = all.find(
    (e) => e.meta.entity === "country:france" && e.meta.relation === "capital",
  );
  if (france) assert.equal(reply(france), "The capital of France is Paris.");
});

test("knowledge-qa scorer: aliases, normalisation, wrong answers, echoes of the subject", () => {
  const ex = (relation: string, accepted: string[], names: string[]): TaskExample => ({
    id: "x",
    conversation: { messages: [] },
    meta: { entity: "e", relation, accepted, names },
  });
  const capital = ex("capital", ["Paris"], ["France"]);
  const score = (e: TaskExample, r: string) => knowledgeQa.score(e, r).correct;
  assert.equal(score(capital, "The capital of France is Paris."), true);
  assert.equal(score(capital, "paris!"), true);
  assert.equal(score(capital, "The capital of France is Lyon."), false);
  assert.equal(score(capital, "The capital of France is Parisville."), false);
  assert.match(knowledgeQa.score(capital, "Lyon.").reason, /Paris not found/);
  // accents, articles, aliases
  assert.equal(score(ex("capital", ["Brasília"], ["Brazil"]), "It is Brasilia."), true);
  assert.equal(
    score(ex("country", ["The Bahamas", "Bahamas"], ["Nassau"]), "Nassau is in Bahamas."),
    true,
  );
  // numbers as digits
  const born = ex("birth-year", ["1809"], ["Charles Darwin", "Darwin"]);
  assert.equal(score(born, "Charles Darwin was born in 1809."), true);
  assert.equal(score(born, "He was born in 1,809."), true);
  assert.equal(score(born, "He was born in one thousand eight hundred and nine."), true);
  assert.equal(score(born, "Charles Darwin was born in 1808."), false);
  assert.equal(score(born, "born in 18090"), false);
  const z = ex("atomic-number", ["26"], ["Iron"]);
  assert.equal(score(z, "The atomic number of Iron is twenty-six."), true);
  assert.equal(score(z, "The atomic number of Iron is 126."), false);
  // the subject's own name is not the answer, unless said again
  const lux = ex("capital", ["Luxembourg"], ["Luxembourg"]);
  assert.equal(score(lux, "The capital of Luxembourg is Luxembourg."), true);
  assert.equal(score(lux, "Luxembourg"), true);
  assert.equal(score(lux, "The capital of Luxembourg is Paris."), false);
  const kuwait = ex("country", ["Kuwait"], ["Kuwait City"]);
  assert.equal(score(kuwait, "Kuwait City is a city in Oman."), false);
  assert.equal(score(kuwait, "Kuwait City is a city in Kuwait."), true);
  assert.equal(
    score(ex("capital", ["Mexico City"], ["Mexico"]), "The capital of Mexico is Tijuana."),
    false,
  );
  // symbols keep case; "I" the pronoun is not iodine; capital codes are not words
  const iodine = ex("symbol", ["I"], ["Iodine"]);
  assert.equal(score(iodine, "The chemical symbol of Iodine is I."), true);
  assert.equal(score(iodine, "I think it is Io."), false);
  assert.equal(score(ex("symbol", ["Fe"], ["Iron"]), "The chemical symbol of Iron is Ir."), false);
  const lek = ex("currency", ["Albanian Lek", "ALL"], ["Albania"]);
  assert.equal(score(lek, "I do not know it at all."), false);
  assert.equal(score(lek, "The currency of Albania is ALL."), true);
  assert.equal(score(lek, "The currency of Albania is the albanian lek."), true);
  // closed sets: naming two states or continents is wrong
  const state = ex("standard-state", ["gas"], ["Neon"]);
  assert.equal(score(state, "Neon is a gas at room temperature."), true);
  assert.equal(score(state, "Neon is a solid or a gas."), false);
  assert.equal(
    score(ex("continent", ["Oceania"], ["Australia"]), "Australia is in Oceania."),
    true,
  );
  assert.equal(
    score(ex("continent", ["Europe"], ["France"]), "France is in Asia or Europe."),
    false,
  );
  assert.equal(matchAnswer("It is in South America.", ["America"]), "America");
});

test("mention buckets and accuracy by bucket", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [1, "1"],
    [2, "2-3"],
    [3, "2-3"],
    [4, "4-7"],
    [7, "4-7"],
    [8, "8-15"],
    [15, "8-15"],
    [16, "16-31"],
    [31, "16-31"],
    [32, "32+"],
    [1000, "32+"],
  ];
  for (const [n, b] of cases) assert.equal(mentionBucket(n), b, String(n));
  const ctx = syntheticContext(400, 4);
  const test = knowledgeQa.examples("test", ctx);
  const buckets = new Set(
    test.map((e) => mentionBucket(ctx.mentions!.counts[e.meta.entity as string]!)),
  );
  assert.deepEqual(
    [...buckets].sort(),
    [...MENTION_BUCKETS].sort(),
    "test covers every mention level",
  );
  const scored = test.map((e, i) => ({
    example: e,
    score: knowledgeQa.score(e, i % 2 === 0 ? reply(e) : "I don't know."),
  }));
  const rows = accuracyByMentionBucket(scored, ctx.mentions);
  assert.deepEqual(
    rows.map((r) => r.bucket),
    [...MENTION_BUCKETS],
  );
  assert.equal(
    rows.reduce((s, r) => s + r.n, 0),
    test.length,
  );
  assert.equal(
    rows.reduce((s, r) => s + r.correct, 0),
    Math.ceil(test.length / 2),
  );
  for (const r of rows) if (r.n > 0) assert.ok(r.accuracy >= 0 && r.accuracy <= 1);
  // without mention counts everything is bucket 0
  assert.equal(accuracyByMentionBucket(scored, undefined)[0]!.n, test.length);
});

test("knowledge-qa: bounded deterministic samples keep every bucket and relation", () => {
  const ctx = syntheticContext(3000, 9);
  const task = knowledgeQaTask({ limits: { test: 140, train: 500 } });
  const test = task.examples("test", ctx);
  assert.equal(test.length, 140);
  assert.deepEqual(test, task.examples("test", syntheticContext(3000, 9)));
  const groups = new Set(
    test.map(
      (e) => `${mentionBucket(ctx.mentions!.counts[e.meta.entity as string]!)}|${e.meta.relation}`,
    ),
  );
  assert.equal(groups.size, MENTION_BUCKETS.length * 4);
  const train = task.examples("train", ctx);
  assert.equal(train.length, 500);
  assert.equal(new Set(train.map((e) => e.id)).size, 500);
  // default test limit is 600
  assert.ok(knowledgeQa.examples("test", ctx).length <= 600);
  assert.equal(normalizeText("The Bahamas!"), "bahamas");
});

test("knowledge-qa on the real knowledge base: fast, disjoint, references correct", () => {
  const ctx = { ...fixtureContext(1), knowledge: loadKnowledge(), mentions: undefined };
  const sets: Set<unknown>[] = [];
  for (const s of SPLITS) {
    const ex = knowledgeQa.examples(s, ctx);
    assert.ok(ex.length > 0, s);
    for (const e of ex) assert.equal(knowledgeQa.score(e, reply(e)).correct, true, reply(e));
    sets.push(new Set(ex.map((e) => e.meta.entity)));
  }
  for (const k of sets[2]!) assert.ok(!sets[0]!.has(k) && !sets[1]!.has(k));
});
