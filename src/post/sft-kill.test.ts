/** `chatforge sft` killed with SIGKILL mid-run, then --resume: the same curve as a straight run. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { conversationsToJsonl } from "../chat/jsonl.js";
import { createModel } from "../model/factory.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import { trainTokenizer } from "../tokenizer/train.js";
import { freshTrainerState, saveCheckpoint } from "../train/checkpoint.js";

const BIN = new URL("../../bin/chatforge.js", import.meta.url).pathname;
const SLOW = process.env.CHATFORGE_SLOW === "1";
let tmp = "";
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test("kill -9 during `chatforge sft`, then --resume: the same loss curve as an uninterrupted run", {
  skip: !SLOW && "slow (CHATFORGE_SLOW=1)",
}, async () => {
  tmp = await mkdtemp(join(tmpdir(), "chatforge-sft-kill-"));
  const words = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree", "river", "stone"];
  const convs = words.flatMap((a) =>
    words.map((b) => ({
      messages: [
        { role: "user" as const, content: `Say ${a} then ${b}.` },
        { role: "assistant" as const, content: `${a} ${b}.` },
      ],
    })),
  );
  const data = join(tmp, "data.jsonl");
  await writeFile(data, conversationsToJsonl(convs));
  await writeFile(join(tmp, "t.txt"), convs.map((c) => c.messages[0]!.content).join("\n"));
  const tok = await trainTokenizer({ inputs: [join(tmp, "t.txt")], vocabSize: 300, quiet: true });
  const cfg: ModelConfig = {
    family: "gpt2",
    vocabSize: tok.vocabSize,
    nCtx: 48,
    nEmbd: 32,
    nLayer: 2,
    nHead: 2,
    nInner: 128,
    eps: 1e-5,
  };
  for (const run of ["straight", "killed"]) {
    const dir = join(tmp, "runs", run);
    await mkdir(dir, { recursive: true });
    await tok.save(join(dir, "tokenizer"));
    await saveCheckpoint(
      join(dir, "checkpoints", "pretrain"),
      cfg,
      createModel(cfg, 5),
      null,
      freshTrainerState({}),
    );
  }
  const env = { ...process.env, CHATFORGE_RUNS: join(tmp, "runs") };
  const args = (run: string) => [
    BIN,
    "sft",
    "--run",
    run,
    "--mixture",
    "none",
    "--data",
    data,
    "--val-examples",
    "0",
    "--batch-size",
    "4",
    "--steps",
    "300",
    "--checkpoint-every",
    "20",
    "--eval-every",
    "0",
    "-q",
  ];
  const straight = spawnSync(process.execPath, args("straight"), { env, encoding: "utf8" });
  assert.equal(straight.status, 0, straight.stderr);

  const ckpts = join(tmp, "runs", "killed", "checkpoints", "sft");
  const child = spawn(process.execPath, args("killed"), { env, stdio: "ignore" });
  for (let i = 0; i < 3000 && !existsSync(join(ckpts, "latest")); i++)
    await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 150));
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  const before = readdirSync(ckpts).filter((n) => n.startsWith("step-"));
  assert.ok(before.length >= 1 && !before.includes("step-000300"), `killed too late: ${before}`);

  const again = spawnSync(process.execPath, args("killed"), { env, encoding: "utf8" });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already has checkpoints[\s\S]*--resume/);
  const resumed = spawnSync(process.execPath, [...args("killed"), "--resume"], {
    env,
    encoding: "utf8",
  });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming from .*step-\d+ at step \d+/);
  const curve = (run: string) =>
    JSON.parse(
      readFileSync(
        join(tmp, "runs", run, "checkpoints", "sft", "step-000300", "trainer.json"),
        "utf8",
      ),
    );
  assert.deepEqual(curve("killed").history, curve("straight").history);
  assert.ok(!readdirSync(ckpts).some((n) => n.startsWith(".tmp-")), "temp folders left behind");
  const last = curve("straight").history.at(-1).loss;
  assert.ok(last < 1, `the model learned the replies (final loss ${last})`);
});
