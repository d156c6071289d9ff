/** `chatforge index build`: the run's search index (clean corpus + knowledge base, BM25). */
import { type Command, Option } from "commander";
import { buildSearchIndex } from "../search/build.js";
import { DEFAULT_SEARCH_CONFIG } from "../search/search-index.js";
import { runIndexDir } from "../search/store.js";
import { formatBytes, formatCount, formatDuration } from "../util/progress.js";
import { RunDir } from "../util/run-dir.js";
import { numberIn, positiveInt } from "./args.js";

export function registerIndex(program: Command): void {
  const index = program
    .command("index")
    .summary("the local search index the search tool queries")
    .description(
      "Builds and manages runs/<run>/index/: a BM25 index (minisearch) over passages of the " +
        "run's clean corpus and one reference passage per knowledge-base entity.",
    );
  index
    .command("build")
    .summary("index the run's clean text and the knowledge base for the search tool")
    .description(
      "Cuts the clean documents of runs/<run>/data/ into passages of a few sentences, adds one " +
        "short encyclopedia passage per entity of the knowledge base (so facts pretraining saw " +
        "rarely or never can be found), and writes a BM25 index to runs/<run>/index/ " +
        "(minisearch.json, passages.jsonl, meta.json; written atomically, meta.json last). " +
        "Rebuilding replaces the index.",
    )
    .option("-r, --run <name>", "run name", "speedrun")
    .option("--data <dir>", "folder with clean-*.jsonl.gz (default: runs/<run>/data)")
    .option("-o, --out <dir>", "index folder (default: runs/<run>/index)")
    .addOption(
      new Option("--min-words <n>", "a passage ends at a paragraph once it has this many words")
        .default(DEFAULT_SEARCH_CONFIG.minWords)
        .argParser(positiveInt("--min-words")),
    )
    .addOption(
      new Option("--max-words <n>", "longest passage, in words")
        .default(DEFAULT_SEARCH_CONFIG.maxWords)
        .argParser(positiveInt("--max-words")),
    )
    .addOption(
      new Option("--title-boost <x>", "weight of a title match relative to a text match")
        .default(DEFAULT_SEARCH_CONFIG.titleBoost)
        .argParser(numberIn("--title-boost", 0, 100)),
    )
    .option("-q, --quiet", "no progress output", false)
    .action(async (o) => {
      const run = new RunDir(o.run);
      const outDir = o.out ?? runIndexDir(run);
      const t0 = performance.now();
      const idx = await buildSearchIndex({
        dataDir: o.data ?? run.path("data"),
        outDir,
        run: run.name,
        config: { minWords: o.minWords, maxWords: o.maxWords, titleBoost: o.titleBoost },
        quiet: o.quiet,
      });
      const seconds = (performance.now() - t0) / 1000;
      const c = idx.meta.counts;
      const bytes = Object.values(idx.meta.files).reduce((a, b) => a + b, 0);
      const lines = [
        `search index of run ${run.name} in ${outDir}`,
        `  documents   ${formatCount(c.docs).padStart(8)}  (${idx.meta.sources.clean.length} clean files)`,
        `  passages    ${formatCount(c.passages).padStart(8)}  (${formatCount(c.corpusPassages)} corpus, ${formatCount(c.referencePassages)} knowledge base)`,
        `  words       ${formatCount(c.words).padStart(8)}`,
        `  terms       ${formatCount(c.terms).padStart(8)}`,
        `  size        ${formatBytes(bytes).padStart(8)}`,
        `  time        ${formatDuration(seconds).padStart(8)}  (config ${idx.meta.configHash})`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
