/**
 * Checkpoint directory (config.json + model.safetensors) + tokenizer → one GGUF file, then a
 * back-check: the file is read again and its config, weights (exactly for F32, to f16 rounding for
 * F16) and vocabulary are compared with what was written.
 *
 * `checkpoint` may be a checkpoint folder or a stage folder whose `latest` file names one (what
 * `chatforge train` writes under runs/<run>/checkpoints/<stage>/).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Tokenizer } from "../../tokenizer/index.js";
import { UserError } from "../../util/errors.js";
import { loadHfCheckpoint, WEIGHTS_FILE } from "./checkpoint.js";
import { exportGguf, type GgufDtype, importGguf } from "./gguf-export.js";
import { f16BitsToF32, f32ToF16Bits } from "./half.js";

export interface ExportResult {
  checkpoint: string;
  out: string;
  bytes: number;
  tensors: number;
  params: number;
  family: string;
  dtype: GgufDtype;
  /** Largest |exported − original| weight difference found by the back-check (0 for F32). */
  maxWeightError: number;
}

/** The checkpoint folder `dir` stands for (itself, or the one its `latest` file names). */
export function resolveCheckpointDir(dir: string): string {
  if (existsSync(join(dir, WEIGHTS_FILE))) return dir;
  const latest = join(dir, "latest");
  if (existsSync(latest)) {
    const name = readFileSync(latest, "utf8").trim();
    if (name && existsSync(join(dir, name, WEIGHTS_FILE))) return join(dir, name);
  }
  throw new UserError(
    `${dir} holds no ${WEIGHTS_FILE} and no latest checkpoint`,
    "pass a checkpoint folder (config.json + model.safetensors) or a stage folder written by chatforge train",
  );
}

/** Exports a checkpoint to GGUF and reads it back to verify it. */
export async function exportCheckpointToGguf(opts: {
  checkpoint: string;
  tokenizer: Tokenizer;
  out: string;
  dtype?: GgufDtype;
  name?: string;
}): Promise<ExportResult> {
  const dtype = opts.dtype ?? "f16";
  const dir = resolveCheckpointDir(opts.checkpoint);
  const ckpt = await loadHfCheckpoint(dir);
  await exportGguf(opts.out, ckpt.config, ckpt.weights, opts.tokenizer, {
    dtype,
    name: opts.name ?? "chatforge",
    where: dir,
  });

  // Back-check: read the file we wrote and compare.
  const back = await importGguf(opts.out);
  const fail = (what: string) =>
    new UserError(
      `back-check of ${opts.out} failed: ${what}`,
      "this is a bug in chatforge's export",
    );
  // bos/eos ids in GGUF come from the tokenizer (<|endoftext|>), not from config.json.
  const shape = (c: object) => {
    const { bosTokenId: _b, eosTokenId: _e, ...rest } = c as Record<string, unknown>;
    return JSON.stringify(rest);
  };
  if (shape(back.config) !== shape(ckpt.config)) {
    throw fail(`config differs: ${shape(back.config)} vs ${shape(ckpt.config)}`);
  }
  let maxErr = 0;
  let params = 0;
  for (const [name, t] of ckpt.weights) {
    if (!back.weights.has(name)) continue; // e.g. a tied lm_head copy
    const b = back.weights.get(name)!;
    const twoD = t.shape.length >= 2;
    params += t.data.length;
    for (let i = 0; i < t.data.length; i++) {
      // F16 files store 2-D weights rounded to half precision: compare with that rounding.
      const want = dtype === "f16" && twoD ? f16BitsToF32(f32ToF16Bits(t.data[i]!)) : t.data[i]!;
      if (b.data[i] !== want) throw fail(`tensor ${name}[${i}] is ${b.data[i]}, expected ${want}`);
      maxErr = Math.max(maxErr, Math.abs(b.data[i]! - t.data[i]!));
    }
  }
  const tok = opts.tokenizer;
  for (let id = 0; id < tok.vocabSize; id++) {
    if (tok.isSpecial(id) || !tok.ranks.has(id)) continue;
    const got = back.vocab.tokens[id];
    const want = tok.tokenBytes(id);
    if (!got || Buffer.compare(Buffer.from(got), Buffer.from(want)) !== 0) {
      throw fail(`token ${id} reads back as different bytes`);
    }
  }
  for (const [text, id] of tok.specialTokens) {
    if (back.vocab.specialTokens[text] !== id) throw fail(`special token ${text} is not id ${id}`);
  }
  return {
    checkpoint: dir,
    out: opts.out,
    bytes: statSync(opts.out).size,
    tensors: back.file.tensors.length,
    params,
    family: ckpt.config.family,
    dtype,
    maxWeightError: maxErr,
  };
}
