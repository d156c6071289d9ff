import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../util/errors.js";
import { TASK_NAMES, TASKS, taskByName } from "./index.js";
import {
  DEFAULT_MIXTURE_WEIGHTS,
  mixtureCounts,
  parseMixtureWeights,
  sftMixture,
} from "./mixture.js";
import { fixtureContext } from "./test-fixtures.js";

test("registry: names, lookup, unknown name lists the known ones", () => {
  assert.deepEqual(TASK_NAMES, [
    "identity",
    "smalltalk",
    "knowledge-qa",
    "spelling",
    "arithmetic",
    "letters",
    "lookup",
  ]);
  assert.equal(taskByName("spelling"), TASKS[3]);
  assert.throws(
    () => taskByName("poetry"),
    (e: unknown) =>
      e instanceof UserError && /poetry/.test(e.message) && /identity, smalltalk/.test(e.hint!),
  );
  for (const name of Object.keys(DEFAULT_MIXTURE_WEIGHTS)) assert.ok(TASK_NAMES.includes(name));
});

test("mixture weights: parsing and errors", () => {
  assert.deepEqual(parseMixtureWeights("identity=2,knowledge-qa=1"), {
    identity: 2,
    "knowledge-qa": 1,
  });
  assert.deepEqual(parseMixtureWeights(" identity = 0.5 , spelling=3 ,"), {
    identity: 0.5,
    spelling: 3,
  });
  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["identity", /bad mixture entry/],
    ["identity=two", /bad weight/],
    ["identity=-1", /bad weight/],
    ["identity=1,identity=2", /twice/],
    ["poetry=1", /unknown task "poetry"/],
    ["identity=0", /every weight/],
  ];
  for (const [spec, re] of bad) {
    assert.throws(
      () => parseMixtureWeights(spec),
      (e: unknown) => e instanceof UserError && re.test(e.message),
      spec,
    );
  }
});

test("mixture: counts by weight, deterministic shuffle, unique ids, only the split asked for", () => {
  assert.deepEqual(mixtureCounts({ a: 1, b: 1, c: 1 }, 10), { a: 4, b: 3, c: 3 });
  assert.deepEqual(mixtureCounts({ a: 3, b: 0, c: 1 }, 8), { a: 6, c: 2 });
  const ctx = fixtureContext(11);
  const mix = sftMixture(
    ctx,
    { identity: 3, "knowledge-qa": 1, smalltalk: 1, spelling: 1 },
    "train",
    {
      size: 1200,
    },
  );
  assert.equal(mix.length, 1200);
  const byTask = new Map<string, number>();
  for (const e of mix) byTask.set(e.id.split("/")[0]!, (byTask.get(e.id.split("/")[0]!) ?? 0) + 1);
  assert.equal(byTask.get("identity"), 600);
  assert.equal(byTask.get("knowledge-qa"), 200); // 114 train examples in the fixture: repeated
  assert.equal(new Set(mix.map((e) => e.id)).size, 1200);
  assert.ok(mix.every((e) => e.id.split("/")[1] === "train"));
  assert.ok(mix.some((e) => e.id.endsWith("#2")));
  assert.deepEqual(
    mix,
    sftMixture(ctx, { identity: 3, "knowledge-qa": 1, smalltalk: 1, spelling: 1 }, "train", {
      size: 1200,
    }),
  );
  // shuffled: not grouped by task
  assert.notEqual(
    mix.slice(0, 50).every((e) => e.id.startsWith(mix[0]!.id.split("/")[0]!)),
    true,
  );
  const def = sftMixture(ctx);
  assert.equal(def.length, 5000);
  assert.throws(() => sftMixture(ctx, DEFAULT_MIXTURE_WEIGHTS, "train", { size: -1 }), UserError);
});
