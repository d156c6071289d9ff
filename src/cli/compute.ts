/**
 * `chatforge compute`: shows which compute backend runs here and checks it, and the shared
 * `--backend/--threads` options (plus `setupCompute`) that training/inference commands reuse.
 */
import type { Command } from "commander";
import { type BackendName, gemm, getBackend, jsGemm, setBackend } from "../tensor/backend.js";
import { setBlasIdleSpin } from "../tensor/blas.js";
import { alloc, scope } from "../tensor/memory.js";
import { Rng } from "../tensor/rng.js";
import { initCompute } from "../tensor/wasm/backend.js";
import { UserError } from "../util/errors.js";

export interface ComputeOptions {
  backend: string;
  threads?: string;
}

/** Adds --backend and --threads to a command. */
export function addComputeOptions(cmd: Command): Command {
  return cmd
    .option(
      "--backend <name>",
      "matmul backend: auto (blas if OpenBLAS/Accelerate loads, else wasm), blas, wasm or js; env CHATFORGE_BACKEND",
      process.env.CHATFORGE_BACKEND ?? "auto",
    )
    .option("--threads <n>", "compute threads (default: CHATFORGE_THREADS or the CPU count)");
}

/**
 * Loads the kernels, selects the backend, prints one line about it to stderr; returns it.
 * `workload` tunes OpenBLAS's idle threads for training steps or token-by-token decoding.
 */
export async function setupCompute(
  o: ComputeOptions,
  quiet = false,
  workload: "train" | "decode" = "train",
): Promise<string> {
  setBlasIdleSpin(workload);
  const threads = o.threads === undefined ? undefined : Number(o.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) {
    throw new UserError(`--threads must be a positive integer, got "${o.threads}"`);
  }
  if (o.backend !== "auto") setBackend(o.backend as BackendName, threads);
  else if (threads !== undefined) setBackend(getBackend().name, threads);
  const banner = await initCompute(threads);
  if (!quiet) process.stderr.write(`compute: ${banner}\n`);
  return banner;
}

export function registerCompute(program: Command): void {
  const cmd = program
    .command("compute")
    .description(
      "Print the compute backend this machine uses (chosen automatically, forced with --backend\n" +
        "or CHATFORGE_BACKEND) and check it: one sgemm against plain loops, and its speed.",
    );
  addComputeOptions(cmd).action(async (o: ComputeOptions) => {
    await setupCompute(o);
    const n = 512;
    const { err, gflops } = scope(() => {
      const rng = new Rng(1);
      const a = alloc(n * n);
      const b = alloc(n * n);
      rng.fillUniform(a, -1, 1);
      rng.fillUniform(b, -1, 1);
      const c = alloc(n * n);
      const ref = new Float64Array(n * n);
      gemm(false, false, n, n, n, 1, a, b, 0, c);
      jsGemm(false, false, n, n, n, 1, a, n, b, n, 0, ref, n);
      let e = 0;
      for (let i = 0; i < n * n; i++) e = Math.max(e, Math.abs(c[i]! - ref[i]!));
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) gemm(false, false, n, n, n, 1, a, b, 0, c);
      return { err: e, gflops: (5 * 2 * n ** 3) / ((performance.now() - t0) / 1000) / 1e9 };
    });
    process.stdout.write(
      `sgemm ${n}³: max |error| ${err.toExponential(2)} vs float64 loops, ${gflops.toFixed(1)} GFLOP/s\n`,
    );
    if (err > 1e-3)
      throw new UserError(`the ${o.backend} backend computes wrong results (error ${err})`);
  });
}
