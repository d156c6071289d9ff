/**
 * A kernel worker: instantiates the kernels module on the shared memory, then waits for jobs
 * posted by pool.ts through the control block (protocol.ts), runs its share, and reports the
 * job number it finished in its own `done` slot.
 */
import { setFlagsFromString } from "node:v8";
import { workerData } from "node:worker_threads";
import { hostKernels } from "./host-kernels.js";
import { CTRL, runShare, wallNow } from "./protocol.js";

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
const wasm = inst.exports as Record<string, (...a: number[]) => void>;
const host = hostKernels(d.memory, wasm);
const fns = d.names.map((n) => wasm[n] ?? host[n]!);
const buf = d.memory.buffer as SharedArrayBuffer;
const ctrl = new Int32Array(buf, 0, CTRL.argsByte / 4);
const args = new Float64Array(buf, CTRL.argsByte, CTRL.maxArgs);
const slot = CTRL.done + d.index;
const awakeUntil = new Float64Array(buf, CTRL.awakeByte, 1);
let last = Atomics.load(ctrl, CTRL.seq);
Atomics.add(ctrl, CTRL.ready, 1);
Atomics.notify(ctrl, CTRL.ready);
for (;;) {
  const job = Atomics.load(ctrl, CTRL.seq);
  if (job === last) {
    // asked to stay awake (decoding): poll; otherwise sleep until notified (the timeout bounds
    // what a lost wake-up could cost; it is not how jobs normally arrive)
    if (wallNow() >= awakeUntil[0]!) Atomics.wait(ctrl, CTRL.seq, last, 50);
    continue;
  }
  last = job;
  if (Atomics.load(ctrl, CTRL.quit)) break;
  try {
    if (d.index < Atomics.load(ctrl, CTRL.nthreads)) runShare(fns, ctrl, args, d.index);
  } catch (e) {
    const msg = new TextEncoder().encode(String((e as Error)?.message ?? e));
    const out = new Uint8Array(buf, CTRL.faultByte, CTRL.faultBytes);
    out.fill(0);
    out.set(msg.subarray(0, CTRL.faultBytes - 1));
    Atomics.store(ctrl, CTRL.fault, d.index + 1);
  }
  Atomics.store(ctrl, slot, job);
  Atomics.notify(ctrl, slot);
}
