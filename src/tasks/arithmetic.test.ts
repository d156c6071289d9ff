import assert from "node:assert/strict";
import { test } from "node:test";
import { renderConversation } from "../chat/render.js";
import { chatTestTokenizer } from "../chat/test-tokenizer.js";
import {
  ARITHMETIC_STYLES,
  ARITHMETIC_TRAIN_MIX,
  arithmetic,
  arithmeticCellOf,
  arithmeticCells,
  arithmeticScenarios,
  arithmeticTask,
} from "./arithmetic.js";
import { normalizeText } from "./common.js";
import type { Split, TaskExample } from "./task.js";
import { fixtureContext } from "./test-fixtures.js";
import { codeCallsOf, runCode } from "./tool-call-check.js";

const SPLITS: Split[] = ["train", "val", "test"];
const ctx = fixtureContext(3);
const bySplit = Object.fromEntries(SPLITS.map((s) => [s, arithmetic.examples(s, ctx)])) as Record<
  Split,
  TaskExample[]
>;
const user = (e: TaskExample) => e.conversation.messages[0]!.content;
const reference = (e: TaskExample) => e.conversation.messages.at(-1)!.content;
const fake = (meta: Record<string, unknown>): TaskExample => ({
  id: "x",
  conversation: { messages: [] },
  meta,
});

test("arithmetic: splits by scenario, disjoint, no test or val prompt trained on", () => {
  const scenarios = SPLITS.map((s) => new Set(arithmeticScenarios(s)));
  assert.deepEqual(
    scenarios.map((s) => s.size),
    [8, 2, 2],
  );
  for (let i = 0; i < 3; i++)
    for (let j = i + 1; j < 3; j++)
      for (const id of scenarios[i]!) assert.ok(!scenarios[j]!.has(id), `${id} in two splits`);
  for (const [i, s] of SPLITS.entries())
    for (const e of bySplit[s]) assert.ok(scenarios[i]!.has(e.meta.scenario as string), e.id);
  const train = new Set(bySplit.train.map((e) => normalizeText(user(e))));
  for (const s of ["val", "test"] as const)
    for (const e of bySplit[s]) assert.ok(!train.has(normalizeText(user(e))), e.id);
  // every train scenario is used
  assert.equal(new Set(bySplit.train.map((e) => e.meta.scenario)).size, 8);
});

test("arithmetic: test and val hold every style x steps x digits cell, 30 and 5 each", () => {
  const cells = arithmeticCells();
  assert.equal(cells.length, 4 * 3 * 3);
  for (const [split, per] of [
    ["test", 30],
    ["val", 5],
  ] as const) {
    const counts = new Map<string, number>();
    for (const e of bySplit[split]) {
      const c = arithmeticCellOf(e);
      assert.equal(c.key, e.meta.cell);
      counts.set(c.key, (counts.get(c.key) ?? 0) + 1);
    }
    for (const c of cells) assert.equal(counts.get(c.key), per, `${split} ${c.key}`);
    // both test scenarios in every test cell
    if (split === "test") {
      for (const c of cells) {
        const sc = new Set(
          bySplit.test.filter((e) => e.meta.cell === c.key).map((e) => e.meta.scenario),
        );
        assert.equal(sc.size, 2, c.key);
      }
    }
  }
  assert.equal(new Set(bySplit.test.map(user)).size, bySplit.test.length, "distinct test prompts");
  const small = arithmeticTask({ testPerCell: 2 }).examples("test", ctx);
  assert.equal(small.length, 72);
});

test("arithmetic: train mixes styles and difficulties as documented", () => {
  const train = bySplit.train;
  assert.equal(train.length, 4000);
  for (const style of ARITHMETIC_STYLES) {
    const share = train.filter((e) => e.meta.style === style).length / train.length;
    assert.ok(Math.abs(share - ARITHMETIC_TRAIN_MIX[style]) < 0.03, `${style} ${share}`);
  }
  for (const c of arithmeticCells()) {
    const n = train.filter((e) => e.meta.cell === c.key).length;
    assert.ok(n >= 40, `${c.key}: ${n} train examples`);
  }
});

test("arithmetic: deterministic for a seed; the split does not depend on it", () => {
  assert.deepEqual(arithmetic.examples("test", fixtureContext(3)), bySplit.test);
  assert.deepEqual(arithmetic.examples("train", fixtureContext(3)), bySplit.train);
  const other = arithmetic.examples("train", fixtureContext(4));
  assert.notDeepEqual(other.map(user), bySplit.train.map(user));
  assert.deepEqual(
    new Set(other.map((e) => e.meta.scenario)),
    new Set(bySplit.train.map((e) => e.meta.scenario)),
  );
});

test("arithmetic: references have their form, compute right, score 1", () => {
  for (const s of SPLITS) {
    for (const e of bySplit[s]) {
      const ref = reference(e);
      const answer = e.meta.answer as number;
      assert.ok(Number.isInteger(answer) && answer >= 0, e.id);
      const lines = ref.split("\n");
      if (e.meta.form === "answer") {
        assert.match(ref, new RegExp(`^${answer}(\\. .*\\.)?$`), ref);
        assert.ok(!ref.includes("<|"), ref);
      } else {
        assert.equal(lines.length, (e.meta.steps as number) + 1, ref);
        assert.equal(lines.at(-1), `The answer is ${answer}.`);
        assert.equal(ref.includes("<|python_start|>"), e.meta.form === "code", ref);
      }
      if (e.meta.form === "steps") {
        // each "a op b = v" is right
        for (const line of lines.slice(0, -1)) {
          const m = /(\d+) ([-+*/]) (\d+) = (\d+)/.exec(line);
          assert.ok(m, line);
          assert.equal(runCode(`${m[1]} ${m[2]} ${m[3]}`), m[4], line);
        }
      }
      if (e.meta.style === "none") assert.equal(e.meta.form, "code");
      const score = arithmetic.score(e, ref);
      assert.equal(score.correct, true, `${e.id}: ${score.reason}: ${ref}`);
      assert.equal(score.reward, 1);
    }
  }
});

test("arithmetic: every code call is valid JavaScript whose formatted value is the injected output", () => {
  let calls = 0;
  for (const s of SPLITS) {
    for (const e of bySplit[s]) {
      const found = codeCallsOf(reference(e));
      if (e.meta.form === "code") assert.equal(found.length, e.meta.steps, e.id);
      else assert.equal(found.length, 0, e.id);
      for (const c of found) {
        assert.equal(runCode(c.code), c.output, `${e.id}: ${c.code}`);
        calls++;
      }
    }
  }
  assert.ok(calls > 2000, `${calls} calls checked`);
});

test("arithmetic: every example renders and fits 256 tokens with room to spare", () => {
  // The speedrun trains its own 8,192-token BPE (runs/<run>/tokenizer/); measured on one, these
  // conversations take at most 1.6x the cl100k count, so 160 cl100k tokens stay under 256 there.
  const tok = chatTestTokenizer();
  let max = 0;
  for (const s of SPLITS) {
    for (const e of bySplit[s]) {
      const r = renderConversation(tok, e.conversation, { where: e.id, maxTokens: 256 });
      max = Math.max(max, r.ids.length);
      // the outputs are masked, the calls trained
      if (e.meta.form === "code") assert.ok(r.mask.includes(0) && r.mask.includes(1));
    }
  }
  assert.ok(max <= 160, `longest example ${max} cl100k tokens`);
});

test("arithmetic scorer: answer-first reads the first number", () => {
  const e = fake({ form: "answer", answer: 9 });
  for (const good of ["9", "$9", "9 dollars", "9.", "9. The apples cost 9 dollars.", "nine", "9.0"])
    assert.equal(arithmetic.score(e, good).correct, true, good);
  for (const bad of [
    "8",
    "",
    "I don't know",
    "2 * 2 = 4, 13 - 4 = 9. The answer is 9.", // working before the answer: not answer-first
    "9.5",
    "19",
  ]) {
    const s = arithmetic.score(e, bad);
    assert.equal(s.correct, false, bad);
    assert.equal(s.reward, 0);
  }
  assert.match(arithmetic.score(e, "").reason, /no number/);
  // a code call before the number is not read; the number after it is
  const tool = "<|python_start|>13 - 4<|python_end|><|output_start|>9<|output_end|>9";
  const s = arithmetic.score(e, tool);
  assert.equal(s.correct, true);
  assert.equal(s.details?.usedCode, true);
});

test("arithmetic scorer: step-by-step and code read the final form, else the last number", () => {
  const steps = fake({ form: "steps", answer: 9 });
  const code = fake({ form: "code", answer: 9 });
  const ok = [
    "2 oranges cost 2 * 2 = 4 dollars.\nThe apples cost 13 - 4 = 9 dollars.\nThe answer is 9.",
    "The answer is $9.",
    "4, then 9. The answer is nine.",
    "the answer: 9",
    "The apples cost 13 - 4 = 9 dollars.", // no final form: the last number
  ];
  for (const r of ok) {
    assert.equal(arithmetic.score(steps, r).correct, true, r);
    assert.equal(arithmetic.score(code, r).correct, true, r);
  }
  assert.equal(arithmetic.score(steps, ok[0]!).details?.finalForm, true);
  assert.equal(arithmetic.score(steps, ok[4]!).details?.finalForm, false);
  for (const bad of [
    "The answer is 8.",
    "The answer is eight.",
    "The apples cost 13 - 4 = 9 dollars. The answer is 10.",
    "9 apples. The answer is 19.",
    "",
  ])
    assert.equal(arithmetic.score(steps, bad).correct, false, bad);
  // what is inside code and output spans does not count
  const only =
    "The apples cost <|python_start|>13 - 4<|python_end|><|output_start|>9<|output_end|> dollars.";
  assert.equal(arithmetic.score(code, only).correct, false, "the value only in the tool output");
  assert.equal(arithmetic.score(code, `${only}\nThe answer is 9.`).correct, true);
  const wrongUse = `${only.replace(">9<", ">8<")}\nThe answer is 9.`;
  assert.equal(arithmetic.score(code, wrongUse).correct, true, "the final answer is what counts");
  // an unclosed call runs to the end of the reply
  assert.equal(arithmetic.score(code, "The answer is <|python_start|>13 - 4").correct, false);
});
