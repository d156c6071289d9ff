import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

const BIN = new URL("../../bin/chatforge.js", import.meta.url).pathname;
const SLOW = process.env.CHATFORGE_SLOW === "1";
let runs: string;

before(async () => {
  runs = await mkdtemp(join(tmpdir(), "chatforge-speedrun-"));
});
after(async () => {
  await rm(runs, { recursive: true, force: true });
});

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, CHATFORGE_RUNS: runs },
  });
}

test("speedrun end to end (small): report, checkpoint, sampling CLI, rerun reuses every stage", {
  skip: !SLOW && "slow (CHATFORGE_SLOW=1)",
}, () => {
  const args = [
    "speedrun",
    "--run",
    "e2e",
    "--limit",
    "60",
    "--steps",
    "12",
    "--vocab-size",
    "600",
    "--sft-steps",
    "10",
    "--eval-limit",
    "4",
    "-q",
  ];
  const r = cli(args);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /speedrun done in .*bits\/byte/);
  const dir = join(runs, "e2e");
  const report = readFileSync(join(dir, "report.md"), "utf8");
  for (const h of [
    "## 1. Corpus",
    "## 2. Data pipeline",
    "## 3. Tokenizer",
    "## 4. Token shards",
    "## 5. Pretraining",
    "## 6. Samples",
    "## 7. Supervised fine-tuning",
    "## 8. The chat model on held-out tests",
  ]) {
    assert.ok(report.includes(h), `report lacks ${h}`);
  }
  assert.match(report, /bits per byte/);
  for (const f of [
    "data/funnel.svg",
    "plots/pretrain-loss.svg",
    "checkpoints/pretrain/step-000012/model.safetensors",
    "checkpoints/sft/step-000010/model.safetensors",
    "plots/sft-loss.svg",
    "eval/sft.json",
    "shards/mentions.json",
  ]) {
    assert.ok(existsSync(join(dir, f)), `missing ${f}`);
  }

  const s = cli(["sample", "--run", "e2e", "--prompt", "The", "-n", "10", "--temperature", "0"]);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /^The/);
  assert.match(s.stdout, /\[\d+ tokens, stopped by (length|stop-token)\]/);
  const p = cli(["sample", "--run", "e2e", "--prompt", "The", "-n", "3", "--show-probs", "3"]);
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /%/);
  const long = cli(["sample", "--run", "e2e", "--prompt", "word ".repeat(400)]);
  assert.equal(long.status, 1);
  assert.match(long.stderr, /^error: the prompt is \d+ tokens; the model's context is 256/m);

  const chat = cli(["chat", "--run", "e2e", "--prompt", "Who are you?", "-n", "12"]);
  assert.equal(chat.status, 0, chat.stderr);
  assert.ok(chat.stdout.trim().length > 0, "chat --prompt printed a reply");
  const base = cli(["chat", "--run", "e2e", "--checkpoint", join(dir, "tokenizer"), "-p", "hi"]);
  assert.equal(base.status, 1);
  assert.match(base.stderr, /^error: /m);

  const again = cli(args);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /corpus \(already done: reusing\)/);
  assert.match(again.stderr, /tokenize \(already done: reusing\)/);
});
