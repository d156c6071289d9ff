/**
 * One call of the code tool inside QuickJS (compiled to WebAssembly): a fresh runtime and context
 * per call, so nothing of one call (a global, a memory bomb, a broken prototype) reaches the
 * next; memory, stack and time limits set on the runtime; and the result written the way a
 * person at a REPL sees it. This runs in the code tool's worker thread (src/tools/code-worker.ts).
 *
 * Memory is capped twice: the runtime's limit, and the WebAssembly memory QuickJS runs in, which
 * the worker creates with a fixed maximum (src/tools/code-worker.ts) — the cap that holds.
 *
 * What the guest has: the ECMAScript built-ins of QuickJS and a `console` whose log/info/warn/
 * error print a line. Nothing else: the host passes in no objects, functions or modules
 * (quickjs-emscripten builds QuickJS without its `std`/`os` modules), so there is no file system,
 * network, environment, process, timer or host global to reach, and the guest's `Function`
 * constructor builds functions in the guest's own realm.
 *
 * REPL output: the printed lines, then the value of the last expression — a number as `String`
 * gives it, a string raw, `undefined` as "undefined" (only when nothing was printed), anything
 * else as JSON (functions as `[Function: f]`, BigInts as `1n`); a promise is settled by running
 * the pending jobs (bounded by the same limits). Errors come back as the REPL shows them
 * ("Uncaught ReferenceError: 'x' is not defined", "SyntaxError: unexpected token … (line 1)"),
 * and each limit as one line saying which ("Error: timed out after 2 s").
 */
import type { QuickJSContext, QuickJSHandle, QuickJSWASMModule } from "quickjs-emscripten";
import type { ToolResult } from "./tool.js";

export interface CodeLimits {
  /** Wall time of one call. */
  timeMs: number;
  /** Heap of the guest's runtime. */
  memoryBytes: number;
  /** The guest's stack. */
  stackBytes: number;
  /** Characters of output kept (the rest is cut, with a note). */
  outputChars: number;
  /** Longest code accepted. */
  codeChars: number;
}

export const DEFAULT_CODE_LIMITS: Readonly<CodeLimits> = {
  timeMs: 2000,
  memoryBytes: 32 * 1024 * 1024,
  stackBytes: 256 * 1024,
  outputChars: 2000,
  codeChars: 4000,
};

/** How the guest formats values that are not numbers or strings (runs inside the guest). */
const FORMAT_SOURCE = `(v) => {
  if (typeof v === "bigint") return v + "n";
  if (typeof v === "symbol") return v.toString();
  if (typeof v === "function") return "[Function: " + (v.name || "(anonymous)") + "]";
  if (v === null || typeof v !== "object") return String(v);
  try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; }
  catch (e) { return String(v); }
}`;

const mib = (b: number) => `${Math.round(b / (1024 * 1024))} MiB`;
const kib = (b: number) => `${Math.round(b / 1024)} KiB`;
const seconds = (ms: number) => `${+(ms / 1000).toFixed(2)} s`;

/** Collects printed lines up to a character budget. */
class Output {
  #text = "";
  cut = false;
  constructor(readonly limit: number) {}
  add(line: string): void {
    if (this.cut) return;
    const next = this.#text === "" ? line : `${this.#text}\n${line}`;
    if (next.length > this.limit) {
      this.#text = next.slice(0, this.limit);
      this.cut = true;
    } else this.#text = next;
  }
  get text(): string {
    return this.cut
      ? `${this.#text}\n… (output cut at ${this.limit.toLocaleString("en-US")} characters)`
      : this.#text;
  }
  get empty(): boolean {
    return this.#text === "";
  }
}

/** What `dump` gives when the thrown value cannot even be read (the heap is exhausted). */
const UNREADABLE = Symbol("unreadable");

interface GuestError {
  name?: string;
  message?: string;
  lineNumber?: number;
}

/** A thrown guest value as the REPL line and the error kind. */
function describeThrow(
  thrown: unknown,
  limits: CodeLimits,
  timedOut: boolean,
): { text: string; error: string } {
  const e = (typeof thrown === "object" && thrown !== null ? thrown : {}) as GuestError;
  const message = String(e.message ?? "");
  if (timedOut || (e.name === "InternalError" && message === "interrupted"))
    return { text: `Error: timed out after ${seconds(limits.timeMs)}`, error: "timeout" };
  if (message === "out of memory" || thrown === UNREADABLE)
    return { text: `Error: out of memory (limit ${mib(limits.memoryBytes)})`, error: "memory" };
  if (message === "stack overflow")
    return {
      text: `RangeError: stack overflow (too much recursion; stack limit ${kib(limits.stackBytes)})`,
      error: "stack",
    };
  if (e.name === "SyntaxError")
    return {
      text: `SyntaxError: ${message}${e.lineNumber ? ` (line ${e.lineNumber})` : ""}`,
      error: "syntax",
    };
  if (typeof thrown === "object" && thrown !== null && e.name !== undefined)
    return { text: `Uncaught ${e.name}: ${message}`, error: "exception" };
  return { text: `Uncaught ${JSON.stringify(thrown) ?? String(thrown)}`, error: "exception" };
}

/** A guest value as the REPL shows it. */
function formatValue(ctx: QuickJSContext, h: QuickJSHandle, format: QuickJSHandle): string {
  const type = ctx.typeof(h);
  if (type === "number") return String(ctx.getNumber(h));
  if (type === "string") return ctx.getString(h);
  if (type === "undefined") return "undefined";
  const r = ctx.callFunction(format, ctx.undefined, h);
  if (r.error) {
    r.error.dispose();
    return `[${type}]`;
  }
  const s = ctx.typeof(r.value) === "string" ? ctx.getString(r.value) : `[${type}]`;
  r.value.dispose();
  return s;
}

/** Runs `code` once in a fresh QuickJS runtime of `qjs` within `limits`. */
export function runInQuickJS(qjs: QuickJSWASMModule, code: string, limits: CodeLimits): ToolResult {
  const rt = qjs.newRuntime();
  rt.setMemoryLimit(limits.memoryBytes);
  rt.setMaxStackSize(limits.stackBytes);
  const deadline = Date.now() + limits.timeMs;
  let timedOut = false;
  rt.setInterruptHandler(() => {
    if (Date.now() > deadline) timedOut = true;
    return timedOut;
  });
  const ctx = rt.newContext();
  const out = new Output(limits.outputChars);
  const handles: QuickJSHandle[] = [];
  const keep = (h: QuickJSHandle) => {
    handles.push(h);
    return h;
  };
  try {
    const format = keep(ctx.unwrapResult(ctx.evalCode(FORMAT_SOURCE, "format.js")));
    const log = keep(
      ctx.newFunction("log", (...args) => {
        if (!out.cut) out.add(args.map((a) => formatValue(ctx, a, format)).join(" "));
      }),
    );
    const consoleObj = keep(ctx.newObject());
    for (const name of ["log", "info", "warn", "error", "debug"])
      ctx.setProp(consoleObj, name, log);
    ctx.setProp(ctx.global, "console", consoleObj);

    /** Whether the guest can still allocate (after a bomb, the error itself may be empty). */
    const canAllocate = (): boolean => {
      const probe = ctx.evalCode("new Array(1000).fill(0).length", "probe.js");
      const ok = !probe.error;
      (probe.error ?? probe.value).dispose();
      return ok;
    };
    const fail = (thrown: unknown): ToolResult => {
      const d = describeThrow(timedOut || canAllocate() ? thrown : UNREADABLE, limits, timedOut);
      // the error line is always shown whole, after what was printed before it
      return { ok: false, error: d.error, output: out.empty ? d.text : `${out.text}\n${d.text}` };
    };
    const dumpOf = (h: QuickJSHandle): unknown => {
      try {
        return ctx.dump(h);
      } catch {
        return UNREADABLE;
      }
    };
    const r = ctx.evalCode(code, "code.js");
    if (r.error) return fail(dumpOf(keep(r.error)));
    let value = keep(r.value);
    // settle a promise the code ended with (async code), within the same limits
    const jobs = rt.executePendingJobs(10_000);
    if (jobs.error) return fail(dumpOf(keep(jobs.error)));
    jobs.dispose();
    if (ctx.typeof(value) === "object") {
      const state = ctx.getPromiseState(value);
      if (state.type === "pending") {
        out.add("Promise { <pending> }");
        return { ok: true, output: out.text };
      }
      if (state.type === "rejected") return fail(dumpOf(keep(state.error)));
      if (!state.notAPromise) value = keep(state.value);
    }
    const shown = formatValue(ctx, value, format);
    if (!(shown === "undefined" && !out.empty)) out.add(shown);
    return { ok: true, output: out.text };
  } finally {
    for (const h of handles.reverse()) if (h.alive) h.dispose();
    ctx.dispose();
    rt.dispose();
  }
}
