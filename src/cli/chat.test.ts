/**
 * `chatforge chat` as a person uses it: one --prompt, the errors, and the interactive chat in a
 * real terminal (tmux: keys typed into a pseudo-terminal, the screen read back). The model is a
 * random one: these tests are about the program, not the replies (the speedrun test and the
 * report measure those).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createModel } from "../model/factory.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import { trainTokenizer } from "../tokenizer/train.js";
import { freshTrainerState, saveCheckpoint } from "../train/checkpoint.js";

const BIN = new URL("../../bin/chatforge.js", import.meta.url).pathname;
let runs: string;

before(async () => {
  runs = await mkdtemp(join(tmpdir(), "chatforge-chat-"));
  const dir = join(runs, "c");
  await mkdir(dir, { recursive: true });
  const text = join(runs, "text.txt");
  await writeFile(
    text,
    "Hello there. I am a small model and I like to chat about words. ".repeat(50),
  );
  const tok = await trainTokenizer({ inputs: [text], vocabSize: 300, quiet: true });
  await tok.save(join(dir, "tokenizer"));
  const cfg: ModelConfig = {
    family: "gpt2",
    vocabSize: tok.vocabSize,
    nCtx: 64,
    nEmbd: 16,
    nLayer: 1,
    nHead: 2,
    nInner: 64,
    eps: 1e-5,
  };
  await saveCheckpoint(
    join(dir, "checkpoints", "sft"),
    cfg,
    createModel(cfg, 1),
    null,
    freshTrainerState({}),
  );
  // a tokenizer without the chat special tokens
  const plain = await trainTokenizer({
    inputs: [text],
    vocabSize: 280,
    specialTokens: ["<|endoftext|>"],
    quiet: true,
  });
  await plain.save(join(runs, "plain-tokenizer"));
});
after(() => rm(runs, { recursive: true, force: true }));

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, CHATFORGE_RUNS: runs, CHATFORGE_BACKEND: "js" },
  });
}

test("chat --prompt prints one reply and exits; bad inputs are one error line", () => {
  const r = cli(["chat", "--run", "c", "--prompt", "Hello", "-n", "8", "--seed", "3"]);
  assert.equal(r.status, 0, r.stderr);
  const again = cli(["chat", "--run", "c", "--prompt", "Hello", "-n", "8", "--seed", "3"]);
  assert.equal(again.stdout, r.stdout, "same seed, same reply");
  assert.match(
    r.stderr,
    /reply cut: (the --max-tokens limit|the end of the model.s context) after \d+ tokens/,
  );

  const noChat = cli([
    "chat",
    "--run",
    "c",
    "--tokenizer",
    join(runs, "plain-tokenizer"),
    "-p",
    "hi",
  ]);
  assert.equal(noChat.status, 1);
  assert.match(noChat.stderr, /^error: the tokenizer at .* has no chat special tokens/m);

  const long = cli(["chat", "--run", "c", "-p", "word ".repeat(200)]);
  assert.equal(long.status, 1);
  assert.match(
    long.stderr,
    /^error: the message is too long: the prompt is \d+ tokens and the model's context is 64/m,
  );

  const missing = cli(["chat", "--run", "c", "--stage", "rl", "-p", "hi"]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^error: /m);
  assert.doesNotMatch(missing.stderr, /\n\s+at /, "no stack trace");
});

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;

test("interactive chat in a terminal (tmux): reply, /tokens, /probs, /reset, /quit", {
  skip: !hasTmux && "tmux is not installed",
}, async () => {
  const session = `chatforge-test-${process.pid}`;
  const tmux = (...args: string[]) => spawnSync("tmux", args, { encoding: "utf8" });
  const screen = () => tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", session).stdout;
  const waitFor = async (re: RegExp, what: string) => {
    for (let i = 0; i < 150; i++) {
      if (re.test(screen())) return;
      await sleep(100);
    }
    assert.fail(`the terminal never showed ${what}:\n${screen()}`);
  };
  const cmd = `CHATFORGE_RUNS=${runs} CHATFORGE_BACKEND=js ${process.execPath} ${BIN} chat --run c -n 6; echo EXITED $?; sleep 30`;
  assert.equal(tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "50", cmd).status, 0);
  try {
    await waitFor(/you> /, "the prompt");
    tmux("send-keys", "-t", session, "Hello there", "Enter");
    await waitFor(/chatforge> .*\n(.|\n)*you> /, "a reply and a new prompt");
    tmux("send-keys", "-t", session, "/tokens", "Enter");
    await waitFor(/<\|im_start\|>/, "the special tokens of the last exchange");
    tmux("send-keys", "-t", session, "/probs", "Enter");
    await waitFor(/ {3}0 .*%/, "the probability table");
    tmux("send-keys", "-t", session, "/reset", "Enter");
    await waitFor(/conversation forgotten/, "the reset notice");
    tmux("send-keys", "-t", session, "/quit", "Enter");
    await waitFor(/EXITED 0/, "a clean exit");
  } finally {
    tmux("kill-session", "-t", session);
  }
});
