import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createModel } from "../model/factory.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import { Rng } from "../tensor/rng.js";
import { freshTrainerState, loadCheckpoint, saveCheckpoint } from "../train/checkpoint.js";
import { RunDir } from "../util/run-dir.js";
import { countTrained, epochOrder, maskedLoss, type PackedRows, RowLoader, sft } from "./sft.js";

const cfg: ModelConfig = {
  family: "gpt2",
  vocabSize: 32,
  nCtx: 16,
  nEmbd: 16,
  nLayer: 2,
  nHead: 2,
  nInner: 64,
  eps: 1e-5,
};

let root: string;
let base: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "chatforge-sft-"));
  base = await saveCheckpoint(
    join(root, "base"),
    cfg,
    createModel(cfg, 3),
    null,
    freshTrainerState({}),
  );
});
after(() => rm(root, { recursive: true, force: true }));

/**
 * Rows of "conversations": a prompt of random tokens (not trained on), then a reply that
 * repeats the prompt (trained on) — learnable, so the masked loss must fall.
 */
function rows(n: number, T: number, seed: number): PackedRows {
  const rng = new Rng(seed);
  const x = new Int32Array(n * T);
  const y = new Int32Array(n * T).fill(-1);
  for (let r = 0; r < n; r++) {
    const ids: number[] = [];
    const mask: number[] = [];
    while (ids.length < T + 1) {
      const k = 3;
      const p = Array.from({ length: k }, () => 2 + rng.int(cfg.vocabSize - 2));
      ids.push(1, ...p, 0, ...p);
      mask.push(0, ...p.map(() => 0), 0, ...p.map(() => 1));
    }
    for (let t = 0; t < T; t++) {
      x[r * T + t] = ids[t]!;
      y[r * T + t] = mask[t + 1] ? ids[t + 1]! : -1;
    }
  }
  return { T, rows: n, x, y };
}

const opts = (run: RunDir, data: PackedRows, steps: number) => ({
  run,
  from: base,
  train: data,
  val: rows(4, 16, 99),
  dataHash: "test",
  batchSize: 4,
  steps,
  lr: 3e-3,
  warmup: 2,
  schedule: "linear" as const,
  minLrRatio: 0,
  weightDecay: 0,
  clip: 1,
  evalEvery: 0,
  checkpointEvery: 5,
  keep: 2,
  seed: 1,
  resume: false,
  overwrite: false,
  quiet: true,
  print: () => {},
});

test("epoch order: every row once per epoch, seeded, different across epochs", () => {
  const a = epochOrder(50, 7, 0);
  assert.deepEqual(
    [...a].sort((p, q) => p - q),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.deepEqual(a, epochOrder(50, 7, 0));
  assert.notDeepEqual(a, epochOrder(50, 7, 1));
  const loader = new RowLoader(rows(6, 16, 1), 4, 3);
  for (let i = 0; i < 3; i++) loader.next();
  // 12 rows read = two epochs of 6; the next read starts epoch 2
  assert.deepEqual(loader.state, { shard: 0, pos: 6, epoch: 1 });
});

test("sft lowers the loss on the mask-1 tokens and counts only those as trained", async () => {
  const data = rows(16, 16, 2);
  const run = new RunDir("a", root);
  const m0 = (await loadCheckpoint(base)).model;
  const before = maskedLoss(m0, data, 4);
  const r = await sft(opts(run, data, 60));
  const afterLoss = maskedLoss((await loadCheckpoint(r.checkpoint)).model, data, 4);
  assert.ok(afterLoss < before - 0.5, `masked loss ${before.toFixed(3)} → ${afterLoss.toFixed(3)}`);
  assert.equal(r.state.step, 60);
  // 60 steps of 4 rows over 16 rows: 15 full epochs, every trained target counted
  assert.equal(r.trainedTokens, 15 * countTrained(data));
});

test("a resumed sft run continues exactly where it stopped", async () => {
  const data = rows(8, 16, 4);
  const full = await sft(opts(new RunDir("full", root), data, 12));
  const run = new RunDir("part", root);
  await sft({ ...opts(run, data, 12), stopAfter: 7 });
  const resumed = await sft({ ...opts(run, data, 12), resume: true });
  assert.deepEqual(
    resumed.state.history.map((h) => h.loss),
    full.state.history.map((h) => h.loss),
  );
  const a = (await loadCheckpoint(full.checkpoint)).model.params;
  const b = (await loadCheckpoint(resumed.checkpoint)).model.params;
  for (let i = 0; i < a.length; i++) assert.deepEqual(a[i]!.data, b[i]!.data, a[i]!.name);
  await assert.rejects(
    sft(opts(run, data, 12)),
    /already has checkpoints/,
    "a second run without --resume or --overwrite is refused",
  );
  await assert.rejects(
    sft({ ...opts(run, data, 12), dataHash: "other", resume: true }),
    /settings or data differ/,
  );
});
