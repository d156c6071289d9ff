import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Tokenizer } from "../../tokenizer/index.js";
import { UserError } from "../../util/errors.js";
import { loadHfCheckpoint, saveHfCheckpoint } from "./checkpoint.js";
import { exportCheckpointToGguf } from "./export.js";
import type { ModelConfig } from "./hf-config.js";
import { randomWeights } from "./random-model.js";

const GPT2: ModelConfig = {
  family: "gpt2",
  vocabSize: 50257,
  nCtx: 32,
  nEmbd: 16,
  nLayer: 1,
  nHead: 2,
  nInner: 64,
  eps: 1e-5,
};

test("checkpoint: save → load, and HF GPT-2 files without the transformer. prefix", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cf-ckpt-"));
  try {
    const w = randomWeights(GPT2, 5);
    await saveHfCheckpoint(join(dir, "a"), GPT2, w);
    const back = await loadHfCheckpoint(join(dir, "a"));
    assert.deepEqual(back.config, GPT2);
    assert.deepEqual(back.weights, w);
    // As HF writes a bare GPT2Model: no prefix, plus a causal-mask buffer.
    const bare = new Map([...w].map(([k, t]) => [k.replace(/^transformer\./, ""), t]));
    bare.set("h.0.attn.bias", { shape: [1, 1, 2, 2], data: new Float32Array(4) });
    await saveHfCheckpoint(join(dir, "b"), GPT2, bare, { dtype: "F16" });
    const b = await loadHfCheckpoint(join(dir, "b"));
    assert.deepEqual([...b.weights.keys()].sort(), [...w.keys()].sort());
    await assert.rejects(loadHfCheckpoint(join(dir, "none")), UserError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("export: checkpoint stage folder → GGUF f16 and f32, back-checked; CLI", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cf-export-"));
  try {
    const stage = join(dir, "runs", "r1", "checkpoints", "pretrain");
    await saveHfCheckpoint(join(stage, "step-000010"), GPT2, randomWeights(GPT2, 9));
    await writeFile(join(stage, "latest"), "step-000010\n");
    const tok = Tokenizer.fromTiktoken("r50k_base");
    for (const dtype of ["f16", "f32"] as const) {
      const out = join(dir, `m-${dtype}.gguf`);
      const r = await exportCheckpointToGguf({ checkpoint: stage, tokenizer: tok, out, dtype });
      assert.equal(r.checkpoint, join(stage, "step-000010"));
      assert.equal(r.family, "gpt2");
      assert.equal(r.tensors, 2 + 12 + 2);
      if (dtype === "f32") assert.equal(r.maxWeightError, 0);
      else assert.ok(r.maxWeightError > 0 && r.maxWeightError < 1e-2);
    }
    // A checkpoint whose config does not match its weights is refused, naming the tensor.
    const bad = join(dir, "bad");
    await mkdir(bad);
    await saveHfCheckpoint(bad, { ...GPT2, nEmbd: 32 }, randomWeights(GPT2, 1));
    await assert.rejects(
      exportCheckpointToGguf({ checkpoint: bad, tokenizer: tok, out: join(dir, "bad.gguf") }),
      /transformer\.wte\.weight has shape \[50257,16\], config\.json implies \[50257,32\]/,
    );
    // The CLI, as a user runs it.
    const r = spawnSync(
      process.execPath,
      ["bin/chatforge.js", "export", "--run", "r1", "--tokenizer", "r50k_base", "--dtype", "f32"],
      { env: { ...process.env, CHATFORGE_RUNS: join(dir, "runs") }, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote .*pretrain-f32\.gguf.*back-check passed/s);
    assert.ok(existsSync(join(dir, "runs", "r1", "export", "pretrain-f32.gguf")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
