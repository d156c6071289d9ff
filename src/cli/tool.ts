/** `chatforge tool …`: run a tool exactly as the engine does inside a reply, and print what the model would read. */
import type { Command } from "commander";
import { registerToolCode } from "./tool-code.js";
import { registerToolSearch } from "./tool-search.js";

export function registerTool(program: Command): void {
  const tool = program
    .command("tool")
    .summary("run the code interpreter or the search tool as a model's reply would")
    .description(
      "The tools a chat model calls from inside its replies (src/tools/): `tool code` runs " +
        "JavaScript in the sandbox with its limits, `tool search` queries a run's search index. " +
        "Each prints the text the engine would inject between <|output_start|> and <|output_end|>.",
    );
  registerToolCode(tool);
  registerToolSearch(tool);
}
