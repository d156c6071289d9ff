/** `chatforge tool code`: run code in the code tool's sandbox exactly as the engine does. */
import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { createCodeTool, DEFAULT_CODE_LIMITS } from "../tools/code.js";
import { UserError } from "../util/errors.js";
import { positiveInt } from "./args.js";

function readSource(source: string | undefined, file: string | undefined): string {
  if (file !== undefined) {
    try {
      return readFileSync(file, "utf8");
    } catch (e) {
      throw new UserError(
        `cannot read ${file}: ${(e as Error).message}`,
        "give the path of a file holding the JavaScript, or pass the code itself",
      );
    }
  }
  if (source === undefined || source === "-") return readFileSync(0, "utf8");
  return source;
}

export function registerToolCode(tool: Command): void {
  tool
    .command("code [source]")
    .summary("run JavaScript in the code tool's sandbox; print what the model would read")
    .description(
      "Runs the code as the engine does when a reply closes <|python_start|>…<|python_end|>: " +
        "QuickJS (WebAssembly) in a worker thread, a fresh runtime per call, no files, network, " +
        "environment or host objects, and limits on time, memory, stack, output and code length. " +
        "Prints the output a REPL would show (printed lines, then the last value), which is the " +
        "text injected between <|output_start|> and <|output_end|>. Reads the code from --file, " +
        "or from stdin when the source is '-' or missing. Exits 1 when the tool reports an error.",
    )
    .option("-f, --file <path>", "read the code from this file")
    .option("--json", "print the whole result: {ok, output, error}", false)
    .addOption(
      new Option("--timeout <ms>", "wall-time limit of the call")
        .default(DEFAULT_CODE_LIMITS.timeMs)
        .argParser(positiveInt("--timeout")),
    )
    .action(async (source: string | undefined, o) => {
      const code = readSource(source, o.file);
      const t = await createCodeTool({ timeMs: o.timeout });
      try {
        const r = t.run(code);
        process.stdout.write(`${o.json ? JSON.stringify(r) : r.output}\n`);
        if (!r.ok) process.exitCode = 1;
      } finally {
        t.dispose?.();
      }
    });
}
