/**
 * `npm run bench:kernels`: sgemm GFLOP/s of each matmul backend side by side with numpy (when
 * python3 with numpy is present), at square sizes 256–2048 and at the transformer shapes
 * M×K×N = 4096×256×1024, 4096×1024×256, 4096×256×8192; then the milliseconds of one GPT-2
 * transformer block's forward+backward (d 256, 8 heads, T 256, batch 16) on each backend, with
 * the share of the time spent outside sgemm.
 */
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { GPT2 } from "../model/gpt2.js";
import { type Backend, type BackendName, setBackend } from "../tensor/backend.js";
import { alloc, scope } from "../tensor/memory.js";
import { Rng } from "../tensor/rng.js";
import { backward, profileReport, setProfiling, Tensor } from "../tensor/tensor.js";
import { initCompute, kernelPool } from "../tensor/wasm/backend.js";

const SHAPES: [number, number, number][] = [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [2048, 2048, 2048],
  [4096, 256, 1024],
  [4096, 1024, 256],
  [4096, 256, 8192],
];
const label = ([m, k, n]: [number, number, number]) => `${m}x${k}x${n}`;

/** Best-of GFLOP/s for C[M,N] = A[M,K] B[K,N] on a backend. */
function sgemmGflops(be: Backend, [M, K, N]: [number, number, number]): number {
  return scope(() => {
    const rng = new Rng(1);
    const A = alloc(M * K);
    const B = alloc(K * N);
    const C = alloc(M * N);
    rng.fillUniform(A, -1, 1);
    rng.fillUniform(B, -1, 1);
    const flops = 2 * M * N * K;
    const reps = Math.max(2, Math.min(20, Math.round(3e10 / flops)));
    const calls = Math.max(1, Math.round(2e9 / flops)); // back to back, as numpy's loop below
    be.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C, N);
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      for (let c = 0; c < calls; c++) be.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C, N);
      best = Math.min(best, (performance.now() - t0) / calls);
    }
    return flops / (best / 1000) / 1e9;
  });
}

const NUMPY = `
import json, sys, time
import numpy as np
out = {}
for s in sys.argv[1:]:
    m, k, n = map(int, s.split("x"))
    a = np.random.rand(m, k).astype(np.float32)
    b = np.random.rand(k, n).astype(np.float32)
    a @ b
    reps = max(2, min(20, round(3e10 / (2 * m * n * k))))
    calls = max(1, round(2e9 / (2 * m * n * k)))
    best = 1e9
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(calls): a @ b
        best = min(best, (time.perf_counter() - t) / calls)
    out[s] = 2 * m * n * k / best / 1e9
print(json.dumps(out))
`;

function numpyGflops(threads: number): Record<string, number> | string {
  const env = {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
  };
  const r = spawnSync("python3", ["-c", NUMPY, ...SHAPES.map(label)], { encoding: "utf8", env });
  if (r.error || r.status !== 0) return "numpy not available";
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop()!);
  } catch {
    return "numpy not available";
  }
}

/**
 * ms of one GPT-2 block forward+backward, the ms inside the backend's sgemm (the linears), and
 * the ms of the attention op (whose per-head products call BLAS or wasm kernels directly).
 */
function blockTime(be: Backend): { ms: number; sgemmMs: number; attentionMs: number } {
  const cfg = { vocabSize: 16, nCtx: 256, nEmbd: 256, nLayer: 1, nHead: 8 };
  const model = new GPT2(cfg, 0);
  const blk = model.blocks[0]!;
  const B = 16;
  const T = 256;
  const d = 256;
  const orig = be.sgemm;
  let inside = 0;
  be.sgemm = (...a) => {
    const t0 = performance.now();
    orig(...a);
    inside += performance.now() - t0;
  };
  const rng = new Rng(2);
  let best = { ms: Number.POSITIVE_INFINITY, sgemmMs: 0, attentionMs: 0 };
  for (let r = 0; r < 7; r++) {
    let t0 = 0;
    setProfiling(true);
    scope(() => {
      const xd = alloc(B * T * d);
      rng.fillNormal(xd);
      inside = 0;
      t0 = performance.now();
      const x = new Tensor(xd, [B, T, d], true);
      const y = model.block(blk, x, true);
      const seed = alloc(y.size);
      seed.fill(1e-3);
      backward(y, seed);
    });
    const ms = performance.now() - t0;
    const att = profileReport().find((e) => e.op === "attention");
    setProfiling(false);
    const attentionMs = att ? att.fwdMs + att.bwdMs : 0;
    if (r > 0 && ms < best.ms) best = { ms, sgemmMs: inside, attentionMs };
  }
  be.sgemm = orig;
  return best;
}

/**
 * GB/s of an in-place pass (read + write) over 64 MB, far larger than the caches, on one thread
 * and on all the pool's threads: what the passes around the matmuls are bound by.
 */
function streamGBs(): { one: number; all: number; threads: number } | null {
  const k = kernelPool();
  if (!k) return null;
  return scope(() => {
    const n = 1 << 24;
    const x = alloc(n);
    x.fill(1);
    const rate = (pass: () => void) => {
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        pass();
        best = Math.min(best, performance.now() - t0);
      }
      return (8 * n) / (best / 1000) / 1e9;
    };
    const one = rate(() => k.exports.scale!(x.byteOffset, 1, 0, n));
    const all = rate(() => k.run("scale", [x.byteOffset, 1], n, 16, 1));
    return { one, all, threads: k.threads };
  });
}

async function main() {
  const banner = await initCompute();
  process.stdout.write(
    `kernels bench (${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model} ×${cpus().length}, load ${loadavg()[0]!.toFixed(1)}); ${banner}\n`,
  );
  const backends: Backend[] = [];
  for (const name of ["blas", "wasm"] as BackendName[]) {
    try {
      backends.push(setBackend(name));
    } catch (e) {
      process.stdout.write(`${name}: not available (${(e as Error).message})\n`);
    }
  }
  const threads = backends[0]?.threads ?? 2;
  const np = numpyGflops(threads);
  process.stdout.write(
    `\nsgemm GFLOP/s (M×K×N, best of several runs of back-to-back calls, ${threads} threads)\n`,
  );
  const head = ["shape".padEnd(16), ...backends.map((b) => b.name.padStart(8))];
  if (typeof np !== "string")
    head.push("numpy".padStart(8), ...backends.map((b) => `${b.name}/np`.padStart(9)));
  process.stdout.write(`${head.join(" ")}\n`);
  for (const s of SHAPES) {
    const g = backends.map((b) => sgemmGflops(b, s));
    const row = [label(s).padEnd(16), ...g.map((x) => x.toFixed(1).padStart(8))];
    if (typeof np !== "string") {
      const n = np[label(s)]!;
      row.push(n.toFixed(1).padStart(8), ...g.map((x) => `${(x / n).toFixed(2)}x`.padStart(9)));
    }
    process.stdout.write(`${row.join(" ")}\n`);
  }
  if (typeof np === "string") process.stdout.write(`(${np})\n`);
  const mem = streamGBs();
  if (mem) {
    process.stdout.write(
      `\nmemory: an in-place pass over 64 MB runs at ${mem.one.toFixed(1)} GB/s on 1 thread, ${mem.all.toFixed(1)} GB/s on ${mem.threads}\n`,
    );
  }
  process.stdout.write("\nGPT-2 block forward+backward (d 256, 8 heads, T 256, batch 16)\n");
  for (const b of backends) {
    const r = blockTime(setBackend(b.name));
    const rest = r.ms - r.sgemmMs - r.attentionMs;
    process.stdout.write(
      `${b.name.padEnd(6)} ${r.ms.toFixed(1)} ms: linears' sgemm ${r.sgemmMs.toFixed(1)} ms, attention ${r.attentionMs.toFixed(1)} ms, the rest ${rest.toFixed(1)} ms (${((100 * rest) / r.ms).toFixed(0)}%)\n`,
    );
  }
}

await main();
