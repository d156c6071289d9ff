/** `chatforge corpus build | verify`: the crawl-like WARC corpus every later stage reads. */
import { type Command, Option } from "commander";
import {
  buildCorpus,
  formatSummary,
  PACKAGED_DATASETS,
  type PackagedDataset,
  verifyCorpus,
} from "../corpus/index.js";
import { UserError } from "../util/errors.js";
import { RunDir } from "../util/run-dir.js";
import { collect, positiveInt } from "./args.js";

export function registerCorpus(program: Command): void {
  const corpus = program
    .command("corpus")
    .description("build a crawl-like corpus of gzipped WARC files from offline sources");

  corpus
    .command("build")
    .summary("write the corpus as gzipped WARC files (default: the packaged datasets)")
    .description(
      "Write runs/<run>/corpus/corpus-NNNNN.warc.gz (WARC/1.1 response records) plus summary.json. " +
        "Sources: the packaged datasets installed by npm ci (the default, no network needed), " +
        "local HTML/text folders, existing WARC files and JSONL files. Rerunning with the same " +
        "options reuses a finished corpus; an interrupted build leaves no partial file.",
    )
    .option("-r, --run <name>", "run name: outputs go to runs/<name>/", "default")
    .option("-o, --out <dir>", "output folder (default: runs/<run>/corpus)")
    .option(
      "--packaged <list>",
      `comma-separated packaged datasets (${PACKAGED_DATASETS.join(", ")}), or "none"`,
      PACKAGED_DATASETS.join(","),
    )
    .option("--html-dir <dir>", "add a folder of .html/.htm/.txt files (repeatable)", collect, [])
    .option(
      "--warc <file>",
      "add a .warc or .warc.gz file; response records pass through (repeatable)",
      collect,
      [],
    )
    .option(
      "--jsonl <file>",
      'add a JSONL(.gz) file of {"text", "url"} lines (repeatable)',
      collect,
      [],
    )
    .option("--host <name>", "host name for URLs of --html-dir files", "local.example")
    .addOption(
      new Option("--files <n>", "number of output WARC files, of about equal size")
        .default(4)
        .argParser(positiveInt("--files")),
    )
    .addOption(
      new Option("--limit <n>", "at most n documents per source (quick runs)").argParser(
        positiveInt("--limit"),
      ),
    )
    .option("--force", "rebuild even if a corpus with the same options exists", false)
    .option("-q, --quiet", "no progress output", false)
    .action(async (opts) => {
      const run = new RunDir(opts.run);
      const outDir: string = opts.out ?? run.path("corpus");
      const packaged =
        opts.packaged === "none" || opts.packaged === ""
          ? []
          : (String(opts.packaged)
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean) as PackagedDataset[]);
      const log = run.log("corpus");
      const config = {
        outDir,
        packaged,
        htmlDirs: opts.htmlDir as string[],
        warcs: opts.warc as string[],
        jsonls: opts.jsonl as string[],
        files: opts.files as number,
        limitPerSource: opts.limit as number | undefined,
        host: opts.host as string,
        force: Boolean(opts.force),
      };
      log.start(config);
      const summary = await buildCorpus({ ...config, quiet: opts.quiet, log });
      log.end({
        documents: summary.documents,
        payloadBytes: summary.payloadBytes,
        reused: summary.reused,
      });
      if (summary.reused)
        process.stdout.write("corpus already built with these options (use --force to rebuild)\n");
      process.stdout.write(`${formatSummary(summary, outDir)}\n`);
    });

  corpus
    .command("verify")
    .description(
      "read every WARC file back with the WARC library and check it against summary.json",
    )
    .option("-r, --run <name>", "run name", "default")
    .option("-o, --out <dir>", "corpus folder (default: runs/<run>/corpus)")
    .action(async (opts) => {
      const dir: string = opts.out ?? new RunDir(opts.run).path("corpus");
      const r = await verifyCorpus(dir);
      if (r.problems.length) {
        throw new UserError(
          `corpus ${dir} does not match its summary:\n  ${r.problems.join("\n  ")}`,
          "rebuild it with --force",
        );
      }
      process.stdout.write(
        `ok: ${r.files} files, ${r.records} records, ${r.payloadBytes} payload bytes match summary.json\n`,
      );
    });
}
