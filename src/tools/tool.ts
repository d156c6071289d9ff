/**
 * A tool the model calls from inside its reply (DESIGN.md §4, "Tools"). The model writes a span
 * (`<|python_start|>code<|python_end|>`, `<|search_start|>query<|search_end|>`); the engine
 * (src/infer/engine.ts) takes the text between the two tokens, calls `run`, and forces
 * `<|output_start|>…<|output_end|>` holding the result into the row. `run` never throws for
 * anything the model wrote: bad code, an empty query, a timeout or a memory limit come back as
 * `{ ok: false, output }` with the text a person at a REPL would see ("timed out after 2 s"),
 * because that text is what the model reads next.
 */

export interface ToolResult {
  /** The text injected between `<|output_start|>` and `<|output_end|>`. */
  output: string;
  /** False when the call failed (the output is then the error text). */
  ok: boolean;
  /** What went wrong, for events and counters (e.g. "timeout", "memory", "syntax", "empty"). */
  error?: string;
}

export interface Tool {
  /** "python" (the code interpreter) or "search". */
  readonly name: string;
  /** The special tokens of the span that calls the tool. */
  readonly spanStart: string;
  readonly spanEnd: string;
  /** Runs one call; synchronous, bounded by the tool's own limits, never throws for bad input. */
  run(input: string): ToolResult;
  /** Frees what the tool holds (an interpreter, an index); calling `run` after it is a bug. */
  dispose?(): void;
}
