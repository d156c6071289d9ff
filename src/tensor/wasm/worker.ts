/**
 * A kernel worker: instantiates the kernels module on the shared memory, then waits for jobs
 * posted by pool.ts through the control block (Atomics), runs its share, and signals done.
 */
import { setFlagsFromString } from "node:v8";
import { workerData } from "node:worker_threads";
import { CTRL, runShare } from "./protocol.js";

interface Data {
  bytes: Uint8Array;
  memory: WebAssembly.Memory;
  names: string[];
  index: number;
  relaxed: boolean;
}

const d = workerData as Data;
if (d.relaxed) setFlagsFromString("--experimental-wasm-relaxed-simd");
const inst = new WebAssembly.Instance(new WebAssembly.Module(d.bytes), {
  env: { memory: d.memory },
});
const fns = d.names.map((n) => inst.exports[n] as (...a: number[]) => void);
const ctrl = new Int32Array(d.memory.buffer as SharedArrayBuffer, 0, 64);
const args = new Float64Array(d.memory.buffer as SharedArrayBuffer, CTRL.argsByte, CTRL.maxArgs);
let seen = Atomics.load(ctrl, CTRL.seq);
Atomics.add(ctrl, CTRL.ready, 1);
Atomics.notify(ctrl, CTRL.ready);
for (;;) {
  Atomics.wait(ctrl, CTRL.seq, seen);
  seen = Atomics.load(ctrl, CTRL.seq);
  if (Atomics.load(ctrl, CTRL.quit)) break;
  if (d.index < Atomics.load(ctrl, CTRL.nthreads)) runShare(fns, ctrl, args, d.index);
  if (Atomics.sub(ctrl, CTRL.pending, 1) === 1) Atomics.notify(ctrl, CTRL.pending);
}
