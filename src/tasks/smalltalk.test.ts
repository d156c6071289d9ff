import assert from "node:assert/strict";
import { test } from "node:test";
import { isRepetitionLoop } from "./common.js";
import { SMALLTALK_TOPICS, smalltalk, smalltalkTemplates } from "./smalltalk.js";
import type { Split } from "./task.js";
import { fixtureContext } from "./test-fixtures.js";

const ctx = fixtureContext(3);
const SPLITS: Split[] = ["train", "val", "test"];

test("smalltalk: split by template, every topic everywhere, multi-turn chats from one split", () => {
  const ids = SPLITS.map(
    (s) => new Set([...smalltalkTemplates(s).values()].flat().map((t) => t.id)),
  );
  for (const id of ids[2]!) assert.ok(!ids[0]!.has(id) && !ids[1]!.has(id), id);
  for (const id of ids[1]!) assert.ok(!ids[0]!.has(id), id);
  for (const [i, s] of SPLITS.entries()) {
    const ex = smalltalk.examples(s, ctx);
    assert.deepEqual(new Set(ex.map((e) => e.meta.topic)), new Set(SMALLTALK_TOPICS));
    const multi = ex.filter((e) => (e.meta.turns as number) > 1);
    assert.ok(multi.length >= 50, `${s}: ${multi.length} multi-turn chats`);
    for (const e of ex) {
      for (const t of e.meta.templates as string[]) assert.ok(ids[i]!.has(t), `${s} uses ${t}`);
      const m = e.conversation.messages;
      assert.equal(m.length, 2 * (e.meta.turns as number));
      for (const [k, msg] of m.entries())
        assert.equal(msg.role, k % 2 === 0 ? "user" : "assistant");
      assert.equal(smalltalk.score(e, m.at(-1)!.content).correct, true, JSON.stringify(m));
      // every assistant turn, not only the last, is on topic for its own prompt
      for (const [k, t] of (e.meta.templates as string[]).entries()) {
        const turn = { ...e, meta: { topic: t.split(":")[0] } };
        assert.equal(smalltalk.score(turn, m[2 * k + 1]!.content).correct, true, JSON.stringify(m));
      }
    }
  }
  assert.ok(smalltalk.examples("train", ctx).some((e) => e.meta.turns === 3));
  assert.deepEqual(smalltalk.examples("val", ctx), smalltalk.examples("val", fixtureContext(3)));
});

test("smalltalk scorer: on topic, empty, loops", () => {
  const ex = smalltalk.examples("test", ctx);
  const of = (topic: string) => ex.find((e) => e.meta.topic === topic && e.meta.turns === 1)!;
  assert.equal(smalltalk.score(of("greeting"), "Hi there!").correct, true);
  assert.equal(smalltalk.score(of("greeting"), "The capital of France is Paris.").correct, false);
  assert.equal(smalltalk.score(of("thanks"), "Glad I could help.").correct, true);
  assert.equal(smalltalk.score(of("thanks"), "Goodbye!").correct, false);
  assert.equal(smalltalk.score(of("goodbye"), "Bye, see you soon!").correct, true);
  assert.equal(smalltalk.score(of("goodbye"), "Hello!").correct, false);
  assert.equal(smalltalk.score(of("apology"), "No worries!").correct, true);
  assert.equal(smalltalk.score(of("compliment"), "Thanks, that is kind.").correct, true);
  assert.equal(smalltalk.score(of("how-are-you"), "I am fine, thanks.").correct, true);
  assert.equal(smalltalk.score(of("abilities"), "I can answer short questions.").correct, true);
  assert.match(smalltalk.score(of("greeting"), "   ").reason, /empty/);
  const loop = smalltalk.score(of("greeting"), "hello hello hello hello hello hello");
  assert.equal(loop.correct, false);
  assert.match(loop.reason, /loop/);
  assert.equal(isRepetitionLoop("You're welcome! I am glad I could help."), false);
  assert.equal(isRepetitionLoop("I can help. I can help. I can help. I can help."), true);
});
