/**
 * The code tool's worker thread: it loads QuickJS once, then answers each call posted on its port
 * with `runInQuickJS` and wakes the waiting caller through the shared flag (src/tools/code.ts).
 * A failure outside the guest — the WebAssembly module aborting, the thread's own stack
 * overflowing in a native recursion QuickJS does not check — is answered as `crashed`, and the
 * thread ends: the tool starts a fresh one, so a broken module is never used again.
 */
import { type MessagePort, workerData } from "node:worker_threads";
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC } from "quickjs-emscripten";
import { type CodeLimits, runInQuickJS } from "./quickjs-run.js";

export interface WorkerInit {
  port: MessagePort;
  /** [0]: the sequence number of the last answered call; [1]: 1 once QuickJS is loaded. */
  flag: Int32Array;
  limits: CodeLimits;
}

export interface WorkerCall {
  seq: number;
  code: string;
}

export interface WorkerReply {
  seq: number;
  ok: boolean;
  output: string;
  error?: string;
  crashed?: boolean;
}

const { port, flag, limits } = workerData as WorkerInit;
// QuickJS's own memory limit counts each allocation as 8 bytes in this build (its allocator
// cannot tell sizes: quickjs-emscripten issues 255 and 271), so a bomb of many large arrays would
// pass it. The real cap is the WebAssembly memory itself: a fixed maximum, the guest's limit plus
// a quarter for QuickJS's own data and stack, beyond which malloc fails and QuickJS throws.
const PAGE = 64 * 1024;
const INITIAL_PAGES = 256;
const wasmMemory = new WebAssembly.Memory({
  initial: INITIAL_PAGES,
  maximum: INITIAL_PAGES + Math.ceil((limits.memoryBytes * 1.25) / PAGE),
});
const qjs = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory }));
Atomics.store(flag, 1, 1);
Atomics.notify(flag, 1);

port.on("message", ({ seq, code }: WorkerCall) => {
  let reply: WorkerReply;
  try {
    reply = { seq, ...runInQuickJS(qjs, code, limits) };
  } catch (e) {
    reply = {
      seq,
      ok: false,
      error: "crash",
      output: `Error: the interpreter stopped (${(e as Error)?.message?.split("\n")[0] ?? String(e)}); it was restarted`,
      crashed: true,
    };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, seq);
  Atomics.notify(flag, 0);
  if (reply.crashed) port.close();
});
