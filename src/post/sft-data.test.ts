import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chatTestTokenizer } from "../chat/test-tokenizer.js";
import { fixtureContext } from "../tasks/test-fixtures.js";
import { countTrained } from "./sft.js";
import { buildSftData } from "./sft-data.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "chatforge-sftdata-"));
});
after(() => rm(dir, { recursive: true, force: true }));

const line = (...turns: [string, string][]) =>
  JSON.stringify({ messages: turns.map(([role, content]) => ({ role, content })) });

async function file(name: string, lines: string[]): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, `${lines.join("\n")}\n`);
  return p;
}

const opts = (files: string[], mixture: Record<string, number> = {}) => ({
  tok: chatTestTokenizer(),
  T: 64,
  mixture,
  examples: 40,
  valExamples: 10,
  ctx: fixtureContext(),
  files,
});

test("user files and task mixtures become packed rows with per-source counts", async () => {
  const f = await file("ok.jsonl", [
    line(["user", "Hi"], ["assistant", "Hello!"]),
    "",
    line(["system", "Be brief."], ["user", "2+2?"], ["assistant", "4"]),
  ]);
  const d = await buildSftData(opts([f], { identity: 1, spelling: 1 }));
  assert.equal(d.sources[f]!.conversations, 2);
  assert.equal(d.sources.identity!.conversations + d.sources.spelling!.conversations, 40);
  const trained = Object.values(d.sources).reduce((a, s) => a + s.trained, 0);
  assert.equal(countTrained(d.train), trained, "every mask-1 token is a target once");
  assert.ok(d.val.rows > 0);
  const again = await buildSftData(opts([f], { identity: 1, spelling: 1 }));
  assert.equal(again.hash, d.hash, "deterministic");
});

test("bad SFT files: one error naming the file and line", async () => {
  const cases: [string[], RegExp][] = [
    [[line(["user", "Hi"], ["assistant", "Hello"]), "{not json"], /bad1\.jsonl:2: not JSON/],
    [[`{"prompt": "x"}`], /bad2\.jsonl:1: .*messages/],
    [[line(["assistant", "Hello"], ["user", "Hi"])], /bad3\.jsonl:1: .*/],
    [[line(["user", "Hi"], ["wizard", "boo"])], /bad4\.jsonl:1: .*role/],
    [[line(["user", "Hi"])], /bad5\.jsonl:1: .*assistant/],
    [[line(["user", "word ".repeat(80)], ["assistant", "ok"])], /bad6\.jsonl:1: .*\d+ more than/],
    [[""], /bad7\.jsonl: no conversations/],
  ];
  for (const [i, [lines, re]] of cases.entries()) {
    const f = await file(`bad${i + 1}.jsonl`, lines);
    await assert.rejects(buildSftData(opts([f])), (e: Error) => {
      assert.equal(e.name, "UserError", e.stack);
      assert.match(e.message, re);
      return true;
    });
  }
});

test("task examples over the context are left out and counted; a user's are an error", async () => {
  const d = await buildSftData({ ...opts([], { arithmetic: 1, identity: 1 }), T: 48 });
  const a = d.sources.arithmetic!;
  assert.ok((a.tooLong ?? 0) > 0, "some arithmetic examples do not fit 48 tokens");
  assert.equal(a.conversations + (a.tooLong ?? 0), 20);
  assert.ok(d.train.rows > 0);
  assert.equal(countTrained(d.train), a.trained + (d.sources.identity?.trained ?? 0));
});
