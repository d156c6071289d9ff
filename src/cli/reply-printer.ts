/**
 * Prints a reply as the engine streams it: the model's text as it comes, the code or query it
 * writes inside a tool span marked as such, and the tool's result on a line of its own — in
 * colour on a terminal, in brackets otherwise (`[python] 2+2` / `[output] 4`). The forced output
 * tokens themselves are not echoed: the tool-result event says the same thing once.
 */
import { CHAT_TOKENS } from "../chat/conversation.js";
import type { EngineEvent } from "../infer/engine.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";

export function replyPrinter(
  tok: Tokenizer,
  write: (s: string) => void,
  color: boolean,
): (e: EngineEvent) => void {
  const paint = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const cyan = paint("36");
  const dim = paint("2");
  const red = paint("31");
  const starts = new Map<number, string>();
  for (const [name, s] of [
    ["python", CHAT_TOKENS.pythonStart],
    ["search", CHAT_TOKENS.searchStart],
  ] as const) {
    const id = tok.specialTokens.get(s);
    if (id !== undefined) starts.set(id, name);
  }
  const ends = new Set(
    [CHAT_TOKENS.pythonEnd, CHAT_TOKENS.searchEnd].flatMap((s) => tok.specialTokens.get(s) ?? []),
  );
  let inSpan = false;
  return (e) => {
    if (e.type === "token") {
      if (e.forced) return;
      const tool = starts.get(e.id);
      if (tool) {
        inSpan = true;
        write(`\n${cyan(color ? `⟨${tool}⟩ ` : `[${tool}] `)}`);
      } else if (ends.has(e.id)) {
        inSpan = false;
      } else {
        write(inSpan ? cyan(e.text) : e.text);
      }
    } else if (e.type === "tool-result") {
      const text = e.output.replace(/\n/g, "\n  ");
      write(`\n${dim(color ? "→ " : "[output] ")}${e.ok ? dim(text) : red(text)}\n`);
    } else if (e.type === "finish" && e.note) {
      write(`\n${dim(`(${e.note})`)}`);
    }
  };
}
