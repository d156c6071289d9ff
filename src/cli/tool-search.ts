/** `chatforge tool search`: query a run's search index as the search tool would. */
import type { Command } from "commander";
import { Option } from "commander";
import { loadRunIndex, loadSearchIndex } from "../search/store.js";
import { openTokenizer } from "../tokenizer/report.js";
import { createSearchTool, SEARCH_TOOL_DEFAULTS } from "../tools/search.js";
import { RunDir } from "../util/run-dir.js";
import { positiveInt } from "./args.js";

export function registerToolSearch(tool: Command): void {
  tool
    .command("search <query>")
    .summary("search the run's index: top passages with scores, or what the model would read")
    .description(
      "Queries runs/<run>/index/ (built by `chatforge index build`) with BM25 and prints the " +
        "top passages with their scores, titles and URLs. With --as-model, prints exactly the " +
        "text the search tool injects between <|output_start|> and <|output_end|> (cut to the " +
        "token budget with the run's tokenizer, or the error the model would read).",
    )
    .option("-r, --run <name>", "run name", "speedrun")
    .option("--index <dir>", "index folder (default: runs/<run>/index)")
    .option(
      "--tokenizer <dir>",
      "tokenizer for --as-model: a folder or a packaged name such as cl100k_base (default: runs/<run>/tokenizer)",
    )
    .addOption(
      new Option("-k, --top-k <n>", "passages to return")
        .default(SEARCH_TOOL_DEFAULTS.topK)
        .argParser(positiveInt("--top-k")),
    )
    .addOption(
      new Option("--budget <n>", "tokens the tool's output may take (--as-model)")
        .default(SEARCH_TOOL_DEFAULTS.budgetTokens)
        .argParser(positiveInt("--budget")),
    )
    .option("--as-model", "print exactly what the tool injects into the model's reply", false)
    .action(async (query: string, o) => {
      const run = new RunDir(o.run);
      const index = o.index ? loadSearchIndex(o.index, run.name) : loadRunIndex(run);
      if (o.asModel) {
        const tok = await openTokenizer(o.tokenizer ?? run.path("tokenizer"));
        const r = createSearchTool(index, tok, { topK: o.topK, budgetTokens: o.budget }).run(query);
        process.stdout.write(`${r.output}\n`);
        const n = tok.encodeOrdinary(r.output).length;
        process.stderr.write(`[${r.ok ? "ok" : `error: ${r.error}`}, ${n} tokens]\n`);
        if (!r.ok) process.exitCode = 1;
        return;
      }
      const hits = index.search(query, o.topK);
      if (hits.length === 0) {
        process.stdout.write(`no results for "${query}"\n`);
        return;
      }
      const out: string[] = [];
      hits.forEach((h, i) => {
        const p = h.passage;
        out.push(`${i + 1}. ${h.score.toFixed(2)}  ${p.title}  <${p.url}>  [${p.source} #${p.id}]`);
        out.push(`   ${p.text}`);
      });
      process.stdout.write(`${out.join("\n")}\n`);
    });
}
