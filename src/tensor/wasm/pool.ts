/**
 * Loads the WebAssembly SIMD kernels and runs them on a pool of threads that share the tensor
 * memory: the main thread takes the first chunk of every job, `threads - 1` workers the others.
 * Jobs are posted through the control block with Atomics (a few microseconds), not messages;
 * see protocol.ts for its layout.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import { memory } from "../memory.js";
import { hostKernels } from "./host-kernels.js";
import { CTRL, runShare, wallNow } from "./protocol.js";

export type KernelFn = (...a: number[]) => void;

/** A worker that has not finished its share after this long is reported, not waited on forever. */
const WATCHDOG_MS = 60_000;

export class KernelPool {
  readonly threads: number;
  readonly relaxed: boolean;
  /** The compiled module's bytes (workers instantiate the same). */
  readonly bytes: Uint8Array;
  /** The kernels by name: the module's exports and the host kernels (host-kernels.ts). */
  readonly exports: Record<string, KernelFn>;
  private readonly names: string[];
  private readonly ids = new Map<string, number>();
  private readonly fns: KernelFn[];
  private readonly workers: Worker[] = [];
  /** The number of the last job posted. */
  private job = 0;

  private constructor(bytes: Uint8Array, relaxed: boolean, threads: number) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const wasm = inst.exports as Record<string, KernelFn>;
    this.exports = { ...wasm, ...hostKernels(memory, wasm) };
    this.names = Object.keys(this.exports);
    for (const [i, n] of this.names.entries()) this.ids.set(n, i);
    this.fns = this.names.map((n) => this.exports[n]!);
    this.relaxed = relaxed;
    this.bytes = bytes;
    this.threads = threads;
  }

  /** Compiles the kernels (relaxed SIMD if the engine accepts it); no workers: one thread. */
  static createSync(threads = 1): KernelPool {
    const dir = dirname(fileURLToPath(import.meta.url));
    let relaxed = true;
    let bytes: Uint8Array;
    try {
      setFlagsFromString("--experimental-wasm-relaxed-simd");
      bytes = readFileSync(join(dir, "kernels-relaxed.wasm"));
      new WebAssembly.Module(bytes);
    } catch {
      relaxed = false;
      bytes = readFileSync(join(dir, "kernels-simd.wasm"));
    }
    return new KernelPool(bytes, relaxed, threads);
  }

  /** Compiles the kernels and starts `threads - 1` workers, resolving when they are ready. */
  static async create(threads: number): Promise<KernelPool> {
    const dir = dirname(fileURLToPath(import.meta.url));
    const pool = KernelPool.createSync(threads);
    const { bytes, relaxed } = pool;
    if (threads - 1 > CTRL.maxWorkers) throw new Error(`at most ${CTRL.maxWorkers + 1} threads`);
    const ctrl = pool.ctrl();
    Atomics.store(ctrl, CTRL.ready, 0);
    Atomics.store(ctrl, CTRL.quit, 0);
    Atomics.store(ctrl, CTRL.fault, 0);
    new Float64Array(memory.buffer as SharedArrayBuffer, CTRL.awakeByte, 1)[0] = 0;
    pool.job = Atomics.load(ctrl, CTRL.seq);
    for (let i = 1; i < threads; i++) Atomics.store(ctrl, CTRL.done + i, pool.job);
    for (let i = 1; i < threads; i++) {
      const w = new Worker(join(dir, "worker.js"), {
        workerData: { bytes, memory, names: pool.names, index: i, relaxed },
      });
      w.unref();
      pool.workers.push(w);
    }
    // wait until every worker has instantiated the module
    const deadline = Date.now() + 30000;
    while (Atomics.load(ctrl, CTRL.ready) < threads - 1) {
      if (Date.now() > deadline) throw new Error("kernel workers did not start within 30 s");
      await new Promise((r) => setTimeout(r, 2));
    }
    return pool;
  }

  private ctrl(): Int32Array {
    return new Int32Array(memory.buffer as SharedArrayBuffer, 0, CTRL.argsByte / 4);
  }

  /**
   * Runs kernel `name` over [0, n): each thread gets one chunk (a multiple of `align`) and is
   * called as name(...args, start, end). Small jobs (n < minPerThread · 2) run on this thread.
   */
  run(name: string, args: number[], n: number, align = 1, minPerThread = 1): void {
    const nt = Math.max(1, Math.min(this.threads, Math.floor(n / Math.max(1, minPerThread))));
    if (nt === 1 || this.workers.length < this.threads - 1) {
      this.exports[name]!(...args, 0, n);
      return;
    }
    const ctrl = this.ctrl();
    const a = new Float64Array(memory.buffer as SharedArrayBuffer, CTRL.argsByte, CTRL.maxArgs);
    a.set(args);
    ctrl[CTRL.kernel] = this.ids.get(name)!;
    ctrl[CTRL.nargs] = args.length;
    ctrl[CTRL.n] = n;
    ctrl[CTRL.nthreads] = nt;
    ctrl[CTRL.align] = align;
    const job = (this.job = (this.job + 1) | 0);
    Atomics.store(ctrl, CTRL.seq, job);
    Atomics.notify(ctrl, CTRL.seq);
    try {
      runShare(this.fns, ctrl, a, 0);
    } finally {
      // even when this thread's share threw: the next job must not overwrite the arguments
      // that a worker is still reading
      for (let i = 1; i <= this.workers.length; i++) this.waitFor(ctrl, i, job, name);
    }
    if (Atomics.load(ctrl, CTRL.fault) !== 0) this.fail(ctrl, name);
  }

  /**
   * Keeps the workers polling for jobs instead of sleeping for the next `ms` milliseconds
   * (a sleeping worker takes 50–100 µs to wake here: more than a small job). For streams of
   * small jobs such as decoding steps; each call extends the window.
   */
  keepAwake(ms: number): void {
    if (this.workers.length === 0) return;
    new Float64Array(memory.buffer as SharedArrayBuffer, CTRL.awakeByte, 1)[0] = wallNow() + ms;
  }

  /** Whether keepAwake's window is still open (small jobs are then worth splitting). */
  awake(): boolean {
    if (this.workers.length === 0) return false;
    return wallNow() < new Float64Array(memory.buffer as SharedArrayBuffer, CTRL.awakeByte, 1)[0]!;
  }

  /** Waits until worker i reports job `job` done: spins briefly, then sleeps in 1 ms steps. */
  private waitFor(ctrl: Int32Array, i: number, job: number, name: string): void {
    const slot = CTRL.done + i;
    let spin = 0;
    let since = 0;
    for (let d = Atomics.load(ctrl, slot); d !== job; d = Atomics.load(ctrl, slot)) {
      if (++spin < 2000) continue;
      if (since === 0) since = performance.now();
      else if (performance.now() - since > WATCHDOG_MS) {
        throw new Error(
          `kernel worker ${i} did not finish job ${job} (${name}) within ${WATCHDOG_MS / 1000} s ` +
            `(it last finished job ${d}); set CHATFORGE_THREADS=1 to run the kernels on one thread`,
        );
      }
      Atomics.wait(ctrl, slot, d, 1);
    }
  }

  /** Throws the error a worker's kernel raised (kept in the control block by worker.ts). */
  private fail(ctrl: Int32Array, name: string): never {
    const who = Atomics.load(ctrl, CTRL.fault) - 1;
    const bytes = new Uint8Array(
      memory.buffer as SharedArrayBuffer,
      CTRL.faultByte,
      CTRL.faultBytes,
    );
    const end = bytes.indexOf(0);
    const msg = new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end));
    Atomics.store(ctrl, CTRL.fault, 0);
    throw new Error(`kernel ${name} failed on worker ${who}: ${msg}`);
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    if (this.workers.length === 0) return; // nothing to stop (and quit must not reach others)
    const ctrl = this.ctrl();
    Atomics.store(ctrl, CTRL.quit, 1);
    Atomics.store(ctrl, CTRL.seq, (this.job = (this.job + 1) | 0));
    Atomics.notify(ctrl, CTRL.seq);
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0; // from now on every job runs on the calling thread
  }
}
