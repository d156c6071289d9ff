/** Held-out means held out across tasks too: no val or test prompt is any task's train prompt. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeText } from "./common.js";
import { TASKS } from "./registry.js";
import { fixtureContext } from "./test-fixtures.js";

test("no val or test prompt of any task appears among the train prompts of any task", () => {
  const ctx = fixtureContext();
  const prompt = (msgs: { role: string; content: string }[]) =>
    normalizeText(
      msgs
        .filter((m) => m.role === "user")
        .map((m) => m.content)
        .join(" | "),
    );
  const train = new Map<string, string>();
  for (const t of TASKS)
    for (const ex of t.examples("train", ctx))
      train.set(prompt(ex.conversation.messages.slice(0, -1)), ex.id);
  for (const t of TASKS)
    for (const split of ["val", "test"] as const)
      for (const ex of t.examples(split, ctx)) {
        const p = prompt(ex.conversation.messages.slice(0, -1));
        assert.ok(!train.has(p), `${ex.id} "${p}" is also ${train.get(p)}`);
      }
});
