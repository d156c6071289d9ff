/**
 * The tools a run's models call, as chat, eval and serve give them: the code interpreter always,
 * and the search tool over `runs/<run>/index/` when the run has one (`chatforge index build`).
 * A run without an index gets no search tool — a search span then comes back to the model as
 * "no tool search here" from the engine — and `missing` says so, for one line to the person.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { INDEX_FILES, loadRunIndex, runIndexDir } from "../search/store.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { RunDir } from "../util/run-dir.js";
import { createCodeTool } from "./code.js";
import { createSearchTool } from "./search.js";
import type { Tool } from "./tool.js";

export interface RunTools {
  tools: Tool[];
  /** Why a tool is absent ("search: no index for run speedrun (chatforge index build --run speedrun)"). */
  missing: string[];
}

export function hasSearchIndex(run: RunDir): boolean {
  return existsSync(join(runIndexDir(run), INDEX_FILES.meta));
}

export async function toolsForRun(run: RunDir, tok: Tokenizer): Promise<RunTools> {
  const tools: Tool[] = [await createCodeTool()];
  const missing: string[] = [];
  if (hasSearchIndex(run)) tools.push(createSearchTool(loadRunIndex(run), tok));
  else
    missing.push(
      `search: no index for run ${run.name} (build one with: chatforge index build --run ${run.name})`,
    );
  return { tools, missing };
}
