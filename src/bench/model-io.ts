/**
 * Model file I/O throughput on a GPT-2 124M-sized model (124M parameters, 475 MiB of f32):
 * safetensors write/read, GGUF export (f32, f16) and read, merge recovery for the GGUF tokenizer.
 * Peers: the same bytes written/read raw by Node (the floor of any format), and Python/numpy
 * reading the same safetensors file (f.read + JSON header + np.frombuffer views, i.e. what
 * `safetensors.numpy.load_file` does before its copy). Files live in the OS temp dir; reads are
 * from a warm page cache (the file was just written), so they measure parsing, not the disk.
 *
 *   npm run bench:model-io
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildGguf, exportGguf, importGguf } from "../model/io/gguf-export.js";
import { buildGgufVocab } from "../model/io/gguf-tokenizer.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import { randomWeights } from "../model/io/random-model.js";
import {
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
} from "../model/io/safetensors.js";
import { Tokenizer } from "../tokenizer/index.js";
import { writeFileAtomic } from "../util/atomic.js";

const cfg: ModelConfig = {
  family: "gpt2",
  vocabSize: 50257,
  nCtx: 1024,
  nEmbd: 768,
  nLayer: 12,
  nHead: 12,
  nInner: 3072,
  eps: 1e-5,
};

async function time<T>(f: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, (performance.now() - t0) / 1000];
}

/** Best of `n` runs (seconds). */
async function best(n: number, f: () => Promise<unknown> | unknown): Promise<number> {
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) b = Math.min(b, (await time(f))[1]);
  return b;
}

const MB = 1024 * 1024;
const row = (what: string, bytes: number, s: number, peer?: number) =>
  console.log(
    `${what.padEnd(46)} ${(s * 1000).toFixed(0).padStart(7)} ms  ${(bytes / MB / s).toFixed(0).padStart(6)} MiB/s` +
      (peer ? `  (${(peer / s).toFixed(2)}x raw I/O speed)` : ""),
  );

const dir = mkdtempSync(join(tmpdir(), "cf-bench-io-"));
try {
  const weights = randomWeights(cfg, 1);
  const tok = Tokenizer.fromTiktoken("r50k_base");
  let params = 0;
  for (const t of weights.values()) params += t.data.length;
  console.log(
    `GPT-2 124M shape: ${params.toLocaleString("en-US")} parameters (${((params * 4) / MB).toFixed(0)} MiB f32)\n`,
  );

  const st = join(dir, "model.safetensors");
  const raw = join(dir, "raw.bin");
  const bytes = serializeSafetensors(weights);
  const tRawWrite = await best(3, () => writeFileAtomic(raw, bytes));
  const tStWrite = await best(3, () => writeSafetensors(st, weights));
  row("raw write (writeFileAtomic, fsync) [floor]", bytes.length, tRawWrite);
  row("safetensors write (serialize + atomic)", bytes.length, tStWrite, tRawWrite);
  const tRawRead = await best(5, () => readFile(raw));
  const tStRead = await best(5, () => readSafetensors(st));
  row("raw read (readFile) [floor]", bytes.length, tRawRead);
  row("safetensors read (one read, views)", bytes.length, tStRead, tRawRead);
  const py = spawnSync(
    "python3",
    [
      "-c",
      [
        "import json, struct, sys, time, numpy as np",
        "best = 1e9",
        "for _ in range(5):",
        "    t = time.perf_counter()",
        "    with open(sys.argv[1], 'rb') as f: b = f.read()",
        "    n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n]); base = 8 + n",
        "    arrs = {k: np.frombuffer(b, dtype=np.float32, count=(v['data_offsets'][1]-v['data_offsets'][0])//4, offset=base+v['data_offsets'][0]) for k, v in h.items() if k != '__metadata__'}",
        "    best = min(best, time.perf_counter() - t)",
        "print(best)",
      ].join("\n"),
      st,
    ],
    { encoding: "utf8" },
  );
  if (py.status === 0) {
    const tPy = Number(py.stdout.trim());
    row("peer: Python f.read + json + np.frombuffer", bytes.length, tPy);
    console.log(
      `  → our safetensors read runs at ${(tPy / tStRead).toFixed(2)}x the numpy peer's speed`,
    );
  } else {
    console.log(`peer: python3/numpy not available (${py.stderr.trim().split("\n").pop()})`);
  }
  console.log();

  const [, tVocab] = await time(() => buildGgufVocab(tok));
  const cl = Tokenizer.fromTiktoken("cl100k_base");
  const [, tVocabCl] = await time(() => buildGgufVocab(cl));
  console.log(
    `merge recovery: r50k_base ${(tVocab * 1000).toFixed(0)} ms, cl100k_base ${(tVocabCl * 1000).toFixed(0)} ms`,
  );
  for (const dtype of ["f32", "f16"] as const) {
    const path = join(dir, `m-${dtype}.gguf`);
    const tBuild = await best(2, () => buildGguf(cfg, weights, tok, { dtype }));
    const tExport = await best(2, () => exportGguf(path, cfg, weights, tok, { dtype }));
    const size = (await readFile(path)).length;
    row(`GGUF ${dtype}: build (layout, tokenizer, f16 convert)`, size, tBuild);
    row(
      `GGUF ${dtype}: export (build + serialize + atomic)`,
      size,
      tExport,
      tRawWrite * (size / bytes.length),
    );
    const tImport = await best(3, () => importGguf(path));
    row(
      `GGUF ${dtype}: import (read, decode, HF layout)`,
      size,
      tImport,
      tRawRead * (size / bytes.length),
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
