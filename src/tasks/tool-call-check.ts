/**
 * For task tests: the code calls written in a reference reply, each run in a fresh node `vm`
 * context (only our own generated code) and its value formatted as the code tool formats it,
 * so a test can check that the injected output is what the tool would say.
 */
import { runInNewContext } from "node:vm";
import { CHAT_TOKENS } from "../chat/conversation.js";

export interface CodeCall {
  code: string;
  /** The output injected after the call in the reply. */
  output: string;
}

/** The calls of a reply, in order: each code span with the output span right after it. */
export function codeCallsOf(reply: string): CodeCall[] {
  const { pythonStart, pythonEnd, outputStart, outputEnd } = CHAT_TOKENS;
  const esc = (s: string) => s.replace(/[|]/g, "\\|");
  const re = new RegExp(
    `${esc(pythonStart)}([\\s\\S]*?)${esc(pythonEnd)}${esc(outputStart)}([\\s\\S]*?)${esc(outputEnd)}`,
    "g",
  );
  return [...reply.matchAll(re)].map((m) => ({ code: m[1]!, output: m[2]! }));
}

/** The code tool's formatting of a value: numbers and booleans as String, strings bare, the rest JSON. */
export function formatToolValue(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** Runs one call's code and formats its value. */
export function runCode(code: string): string {
  return formatToolValue(runInNewContext(code, {}, { timeout: 1000 }));
}
