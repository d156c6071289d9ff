import assert from "node:assert/strict";
import { test } from "node:test";
import { renderConversation } from "../chat/render.js";
import { chatTestTokenizer } from "../chat/test-tokenizer.js";
import { normalizeText } from "./common.js";
import {
  LETTER_KINDS,
  LETTER_STYLES,
  LETTERS_TRAIN_MIX,
  type LetterKind,
  letterAnswer,
  letters,
  lettersCellOf,
  lettersCells,
  lettersReply,
  ordinal,
  readLetterAnswer,
} from "./letters.js";
import { wordSplit } from "./spelling.js";
import type { Split, TaskExample } from "./task.js";
import { fixtureContext } from "./test-fixtures.js";
import { codeCallsOf, runCode } from "./tool-call-check.js";

const SPLITS: Split[] = ["train", "val", "test"];
const ctx = fixtureContext(5);
const bySplit = Object.fromEntries(SPLITS.map((s) => [s, letters.examples(s, ctx)])) as Record<
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

test("letters: answers and ordinals", () => {
  assert.equal(letterAnswer("count", "strawberry", "r"), "3");
  assert.equal(letterAnswer("count", "strawberry", "z"), "0");
  assert.equal(letterAnswer("nth", "garden", "", 3), "r");
  assert.equal(letterAnswer("last", "garden"), "n");
  assert.equal(letterAnswer("length", "garden"), "6");
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22].map(ordinal), [
    "1st",
    "2nd",
    "3rd",
    "4th",
    "11th",
    "12th",
    "13th",
    "21st",
    "22nd",
  ]);
  const q = { kind: "count", word: "strawberry", letter: "r", answer: "3" } as const;
  assert.equal(lettersReply(q, "direct"), "3");
  assert.equal(
    lettersReply(q, "steps"),
    "s, t, r (1), a, w, b, e, r (2), r (3), y.\nThe answer is 3.",
  );
  assert.equal(
    lettersReply(q, "code"),
    'Counting the r\'s in "strawberry": <|python_start|>"strawberry".split("").filter(c => c === "r").length<|python_end|><|output_start|>3<|output_end|>\nThe answer is 3.',
  );
  assert.equal(
    lettersReply({ kind: "nth", word: "garden", n: 3, answer: "r" }, "steps"),
    "g (1), a (2), r (3).\nThe answer is r.",
  );
});

test("letters: split by the spelling task's word split, disjoint, no held-out prompt trained on", () => {
  const words = SPLITS.map((s) => new Set(bySplit[s].map((e) => e.meta.word as string)));
  for (const [i, s] of SPLITS.entries()) for (const w of words[i]!) assert.equal(wordSplit(w), s);
  for (const w of words[2]!) assert.ok(!words[0]!.has(w) && !words[1]!.has(w), w);
  for (const w of words[1]!) assert.ok(!words[0]!.has(w), w);
  const train = new Set(bySplit.train.map((e) => normalizeText(user(e))));
  for (const s of ["val", "test"] as const)
    for (const e of bySplit[s]) assert.ok(!train.has(normalizeText(user(e))), e.id);
  assert.ok(words[0]!.size > 1500 && words[2]!.size > 250);
});

test("letters: test and val hold every style x kind cell, 30 and 5 each; train mixes them", () => {
  const cells = lettersCells();
  assert.equal(cells.length, LETTER_STYLES.length * LETTER_KINDS.length);
  for (const [split, per] of [
    ["test", 30],
    ["val", 5],
  ] as const) {
    const counts = new Map<string, number>();
    for (const e of bySplit[split]) {
      const c = lettersCellOf(e);
      assert.equal(c.key, e.meta.cell);
      counts.set(c.key, (counts.get(c.key) ?? 0) + 1);
    }
    for (const c of cells) assert.equal(counts.get(c.key), per, `${split} ${c.key}`);
  }
  const train = bySplit.train;
  assert.equal(train.length, 3000);
  for (const style of LETTER_STYLES) {
    const share = train.filter((e) => e.meta.style === style).length / train.length;
    assert.ok(Math.abs(share - LETTERS_TRAIN_MIX[style]) < 0.03, `${style} ${share}`);
  }
  for (const c of cells) assert.ok(train.filter((e) => e.meta.cell === c.key).length >= 80, c.key);
  // count questions include letters that occur several times and letters that do not occur
  const counts = train.filter((e) => e.meta.kind === "count").map((e) => e.meta.answer);
  assert.ok(counts.includes("0") && counts.includes("2") && counts.includes("3"));
});

test("letters: deterministic for a seed", () => {
  assert.deepEqual(letters.examples("test", fixtureContext(5)), bySplit.test);
  assert.notDeepEqual(
    letters.examples("train", fixtureContext(6)).map(user),
    bySplit.train.map(user),
  );
});

test("letters: references are right, in their form, and score 1", () => {
  for (const s of SPLITS) {
    for (const e of bySplit[s]) {
      const { kind, word, letter, n, answer, form, style } = e.meta as {
        kind: LetterKind;
        word: string;
        letter?: string;
        n?: number;
        answer: string;
        form: string;
        style: string;
      };
      assert.equal(letterAnswer(kind, word, letter, n), answer, e.id);
      assert.ok(user(e).includes(word), e.id);
      const ref = reference(e);
      if (form === "direct") assert.equal(ref, answer);
      else assert.equal(ref.split("\n").at(-1), `The answer is ${answer}.`);
      if (form === "steps")
        assert.equal(
          ref
            .split("\n")[0]!
            .replace(/[^a-z]/g, "")
            .slice(0, 1),
          word[0],
        );
      if (style === "none") assert.equal(form, "code");
      const score = letters.score(e, ref);
      assert.equal(score.correct, true, `${e.id}: ${score.reason}: ${ref}`);
    }
  }
});

test("letters: every code call is valid JavaScript whose formatted value is the injected output", () => {
  let calls = 0;
  for (const s of SPLITS) {
    for (const e of bySplit[s]) {
      const found = codeCallsOf(reference(e));
      assert.equal(found.length, e.meta.form === "code" ? 1 : 0, e.id);
      for (const c of found) {
        assert.equal(runCode(c.code), c.output, `${e.id}: ${c.code}`);
        assert.equal(c.output, e.meta.answer);
        calls++;
      }
    }
  }
  assert.ok(calls > 1000, `${calls} calls checked`);
});

test("letters: every example renders and fits 256 tokens with room to spare", () => {
  // 160 cl100k tokens: under 256 with the speedrun's own 8,192-token BPE (see arithmetic.test.ts)
  const tok = chatTestTokenizer();
  let max = 0;
  for (const s of SPLITS)
    for (const e of bySplit[s])
      max = Math.max(
        max,
        renderConversation(tok, e.conversation, { where: e.id, maxTokens: 256 }).ids.length,
      );
  assert.ok(max <= 160, `longest example ${max} cl100k tokens`);
});

test("letters scorer: numbers (count, length)", () => {
  const direct = fake({ kind: "count", form: "direct", answer: "3" });
  const code = fake({ kind: "count", form: "code", answer: "3" });
  for (const good of ["3", "3.", "three", "There are 3 r's in strawberry.", "3 r's"])
    assert.equal(letters.score(direct, good).correct, true, good);
  for (const bad of ["2", "", "r", "s, t, r (1), a, w, b, e, r (2), r (3), y. The answer is 3."])
    assert.equal(letters.score(direct, bad).correct, false, bad);
  for (const good of [
    'Counting: <|python_start|>"strawberry".split("").filter(c => c === "r").length<|python_end|><|output_start|>3<|output_end|>\nThe answer is 3.',
    "s, t, r (1), a, w, b, e, r (2), r (3), y.\nThe answer is 3.",
    "There are three.",
  ])
    assert.equal(letters.score(code, good).correct, true, good);
  for (const bad of [
    "<|python_start|>x<|python_end|><|output_start|>3<|output_end|>",
    "The answer is 2.",
    "r (1), r (2), r (3). The answer is 4.",
  ])
    assert.equal(letters.score(code, bad).correct, false, bad);
});

test("letters scorer: letters (nth, last), any case, extra words", () => {
  const e = fake({ kind: "nth", form: "direct", answer: "r" });
  for (const good of [
    "r",
    "R",
    "'r'",
    "r.",
    "The 3rd letter is 'r'.",
    "The third letter of garden is r.",
    "It's r",
    "The answer is R.",
    "g (1), a (2), r (3).\nThe answer is r.",
    '<|python_start|>"garden"[2]<|python_end|><|output_start|>r<|output_end|>\nThe answer is r.',
  ])
    assert.equal(letters.score(e, good).correct, true, good);
  for (const bad of [
    "a",
    "",
    "The 3rd letter is 'd'.",
    "The answer is d.",
    "garden",
    '<|python_start|>"garden"[2]<|python_end|><|output_start|>r<|output_end|>',
  ])
    assert.equal(letters.score(e, bad).correct, false, bad);
  const a = fake({ kind: "nth", form: "direct", answer: "a" });
  assert.equal(letters.score(a, "The 1st letter of apple is a.").correct, true);
  assert.equal(letters.score(a, "The answer is a.").correct, true);
  assert.equal(letters.score(a, "a").correct, true);
  assert.equal(readLetterAnswer("The 2nd letter is at index 1: nothing").how, "none");
  assert.match(letters.score(e, "").reason, /no letter/);
});
