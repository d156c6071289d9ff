/**
 * The code tool: JavaScript, run by QuickJS compiled to WebAssembly, in a worker thread. The
 * span the model writes is `<|python_start|>…<|python_end|>` (the token names keep the layout of
 * the tokenizers we match; the language is JavaScript, which the tasks teach).
 *
 * Two walls. The language wall: the guest is a QuickJS realm that the host gives nothing but a
 * `console` (src/tools/quickjs-run.ts), with a fresh runtime per call and memory, stack and time
 * limits. The thread wall: QuickJS runs in its own worker thread with its own V8 heap limit and
 * stack, so a failure outside the guest (the module aborting, a native recursion overflowing the
 * thread's stack) ends that thread, not the engine or the server; the next call gets a new one.
 *
 * `run` is synchronous, as the engine needs: it posts the code and blocks on a shared flag
 * (`Atomics.wait`) until the worker answers. If the worker does not answer within the time limit
 * plus a grace second (an interrupt that never fired), the caller stops waiting, terminates the
 * worker, and says the code timed out. A call on a fresh worker first waits for QuickJS to load
 * (tens of milliseconds), so every call, even the first after a crash, is answered.
 */
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { CHAT_TOKENS } from "../chat/conversation.js";
import type { WorkerCall, WorkerInit, WorkerReply } from "./code-worker.js";
import { type CodeLimits, DEFAULT_CODE_LIMITS } from "./quickjs-run.js";
import type { Tool, ToolResult } from "./tool.js";

export { type CodeLimits, DEFAULT_CODE_LIMITS } from "./quickjs-run.js";

/** How long a call may wait beyond the time limit before the worker is abandoned. */
const GRACE_MS = 1000;
/** How long a new worker may take to load QuickJS. */
const START_MS = 10_000;

class CodeWorker {
  readonly worker: Worker;
  readonly port: MessageChannel["port1"];
  readonly flag = new Int32Array(new SharedArrayBuffer(8));
  seq = 0;
  dead = false;

  constructor(limits: CodeLimits) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const init: WorkerInit = { port: port2, flag: this.flag, limits };
    this.worker = new Worker(new URL("./code-worker.js", import.meta.url), {
      workerData: init,
      transferList: [port2],
      // the guest's heap is capped inside QuickJS; this caps the thread around it
      resourceLimits: { maxOldGenerationSizeMb: 256, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    this.worker.unref();
    this.port.unref();
    this.worker.on("error", () => {
      this.dead = true;
    });
    this.worker.on("exit", () => {
      this.dead = true;
    });
  }

  /** Waits until QuickJS is loaded; false if it did not load in time. */
  ready(): boolean {
    if (Atomics.load(this.flag, 1) === 1) return true;
    Atomics.wait(this.flag, 1, 0, START_MS);
    return Atomics.load(this.flag, 1) === 1;
  }

  /** The reply to `code`, or undefined when none came within `waitMs`. */
  call(code: string, waitMs: number): WorkerReply | undefined {
    const seq = ++this.seq;
    const msg: WorkerCall = { seq, code };
    this.port.postMessage(msg);
    const until = Date.now() + waitMs;
    while (Atomics.load(this.flag, 0) !== seq) {
      const left = until - Date.now();
      if (left <= 0) return undefined;
      Atomics.wait(this.flag, 0, seq - 1, left);
    }
    return receiveMessageOnPort(this.port)?.message as WorkerReply | undefined;
  }

  stop(): void {
    this.dead = true;
    this.port.close();
    void this.worker.terminate();
  }
}

const seconds = (ms: number) => `${+(ms / 1000).toFixed(2)} s`;

/** The code tool; `limits` override DEFAULT_CODE_LIMITS. Resolves once QuickJS has loaded. */
export async function createCodeTool(limits: Partial<CodeLimits> = {}): Promise<Tool> {
  const L: CodeLimits = { ...DEFAULT_CODE_LIMITS, ...limits };
  let worker: CodeWorker | undefined = new CodeWorker(L);
  await new Promise<void>((resolve, reject) => {
    const w = worker!;
    const poll = () => {
      if (Atomics.load(w.flag, 1) === 1) resolve();
      else if (w.dead) reject(new Error("the code tool's worker did not start"));
      else setTimeout(poll, 2);
    };
    poll();
  });
  let disposed = false;

  const run = (input: string): ToolResult => {
    if (disposed) throw new Error("code tool used after dispose()");
    const code = input.trim();
    if (code === "")
      return {
        ok: false,
        error: "empty",
        output: "Error: empty code block: write JavaScript between the code tokens",
      };
    if (code.length > L.codeChars)
      return {
        ok: false,
        error: "too-long",
        output: `Error: code too long (${code.length.toLocaleString("en-US")} characters, at most ${L.codeChars.toLocaleString("en-US")})`,
      };
    if (!worker || worker.dead) worker = new CodeWorker(L);
    if (!worker.ready()) {
      worker.stop();
      worker = undefined;
      return { ok: false, error: "crash", output: "Error: the interpreter could not start" };
    }
    const reply = worker.call(code, L.timeMs + GRACE_MS);
    if (!reply) {
      worker.stop();
      worker = undefined;
      return { ok: false, error: "timeout", output: `Error: timed out after ${seconds(L.timeMs)}` };
    }
    if (reply.crashed) {
      worker.stop();
      worker = undefined;
    }
    return reply.error === undefined
      ? { ok: reply.ok, output: reply.output }
      : { ok: reply.ok, output: reply.output, error: reply.error };
  };

  return {
    name: "code",
    spanStart: CHAT_TOKENS.pythonStart,
    spanEnd: CHAT_TOKENS.pythonEnd,
    run,
    dispose() {
      disposed = true;
      worker?.stop();
      worker = undefined;
    },
  };
}
