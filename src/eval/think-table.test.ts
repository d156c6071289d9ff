import assert from "node:assert/strict";
import { test } from "node:test";
import type { ScoredExample, TaskResult } from "./task-run.js";
import { formatThinkTable, thinkTables } from "./think-table.js";

const ex = (meta: Record<string, unknown>, correct: boolean, usedCode = false): ScoredExample => ({
  id: "x",
  prompt: "",
  reference: "",
  reply: "",
  ended: true,
  score: { correct, reward: correct ? 1 : 0, reason: "", details: { usedCode } },
  meta,
});

const result = (task: string, examples: ScoredExample[]): TaskResult => ({
  task,
  n: examples.length,
  correct: examples.filter((x) => x.score.correct).length,
  accuracy: 0,
  ci95: [0, 1],
  ended: examples.length,
  examples,
});

test("think tables: a cell per style and difficulty, an 'all' row, tool use counted", () => {
  const a = result("arithmetic", [
    ex({ style: "answer", steps: 1, digits: 1 }, true),
    ex({ style: "answer", steps: 2, digits: 1 }, false),
    ex({ style: "code", steps: 2, digits: 1 }, true, true),
    ex({ style: "none", steps: 1, digits: 1 }, true, true),
    ex({ style: "none", steps: 1, digits: 1 }, false, false),
  ]);
  const [t] = thinkTables([a, result("identity", [ex({}, true)])]);
  assert.ok(t);
  assert.equal(t.task, "arithmetic");
  assert.deepEqual(
    t.rows.map((r) => r.label),
    ["1 step, 1 digit", "2 steps, 1 digit", "all"],
  );
  const all = t.rows.at(-1)!.cells;
  assert.equal(all.answer!.n, 2);
  assert.equal(all.answer!.accuracy, 0.5);
  assert.equal(all.none!.usedTool, 1);
  assert.equal(t.rows[1]!.cells.steps!.n, 0);
  const md = formatThinkTable(t);
  assert.match(md[0]!, /answer first \| step by step \| code tool \| no instruction/);
  assert.match(md.at(-1)!, /\*\*50% \(2\) · tool 50%\*\*/);
  assert.match(md[3]!, /–/);
});
