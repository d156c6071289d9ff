/** `chatforge data …`: the FineWeb-style data pipeline (argument parsing only). */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type Command, Option } from "commander";
import { type CorpusSummary, SUMMARY_FILE } from "../corpus/build.js";
import { type DataConfig, defaultDataConfig, SWITCHABLE } from "../data/config.js";
import { runLocal, runPhase, submitSlurm, waitForSlurm } from "../data/executor.js";
import type { DetectorName } from "../data/lang.js";
import { evaluateLanguageId, formatLangEval } from "../data/langid-eval.js";
import { formatFunnel, loadConfig, type Phase } from "../data/pipeline.js";
import { tokenizeData } from "../data/tokenize.js";
import { isInputName } from "../data/warc.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { RunDir } from "../util/run-dir.js";

/** The WARC files a `corpus build` folder lists in its summary.json, or null for other folders. */
function corpusFiles(dir: string): string[] | null {
  const summary = join(dir, SUMMARY_FILE);
  if (!existsSync(summary)) return null;
  try {
    const s = JSON.parse(readFileSync(summary, "utf8")) as CorpusSummary;
    return Array.isArray(s.files) ? s.files.map((f) => f.name).sort() : null;
  } catch {
    return null;
  }
}

/** Expands directories into their input files (sorted), keeps files as given. */
function resolveInputs(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) {
      throw new UserError(
        `input not found: ${p}`,
        "build a corpus first (chatforge corpus build --run <name>) or pass --input",
      );
    }
    if (statSync(p).isDirectory()) {
      // a corpus folder: its WARC files, not its skipped.jsonl or other sidecars
      const corpus = corpusFiles(p);
      const names = corpus ?? readdirSync(p).filter(isInputName).sort();
      out.push(...names.map((n) => resolve(p, n)));
    } else out.push(resolve(p));
  }
  if (out.length === 0) {
    throw new UserError(`no .warc, .warc.gz, .jsonl or .jsonl.gz files in ${paths.join(", ")}`);
  }
  return out;
}

function int(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new UserError(`${name} must be a non-negative integer, got "${v}"`);
    return n;
  };
}

function num(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new UserError(`${name} must be a number, got "${v}"`);
    return n;
  };
}

interface RunOpts {
  run: string;
  input?: string[];
  out?: string;
  tasks?: number;
  workers: number;
  executor: "local" | "slurm";
  phase?: Phase;
  task?: number;
  skip: string;
  languages: string;
  langScore: number;
  detector: "eld" | "eld-small" | "franc";
  extractor: "fast" | "readability";
  extractTimeout: number;
  maxBytes: number;
  blockedDomains?: string;
  blockedUrls?: string;
  bannedWords?: string;
  softBannedWords?: string;
  bannedSubstrings?: string;
  emailPlaceholder: string;
  ipPlaceholder: string;
  removed: boolean;
  sbatchArg: string[];
  dryRun: boolean;
  wait: boolean;
  quiet: boolean;
}

function buildConfig(o: RunOpts, outDir: string): DataConfig {
  const rd = new RunDir(o.run);
  const inputs = resolveInputs(o.input ?? [rd.path("corpus")]);
  const tasks = o.tasks ?? Math.min(inputs.length, 64);
  if (tasks < 1) throw new UserError("--tasks must be at least 1");
  const cfg = defaultDataConfig(inputs, outDir, tasks);
  cfg.writeRemoved = o.removed;
  cfg.read.maxBytes = o.maxBytes;
  cfg.url.domainsFile = o.blockedDomains && resolve(o.blockedDomains);
  cfg.url.urlsFile = o.blockedUrls && resolve(o.blockedUrls);
  cfg.url.bannedWordsFile = o.bannedWords && resolve(o.bannedWords);
  cfg.url.softBannedWordsFile = o.softBannedWords && resolve(o.softBannedWords);
  cfg.url.bannedSubstringsFile = o.bannedSubstrings && resolve(o.bannedSubstrings);
  cfg.extract.extractor = o.extractor;
  cfg.extract.timeoutMs = o.extractTimeout;
  cfg.lang.detector = o.detector;
  cfg.lang.keep = o.languages
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s && s !== "all");
  cfg.lang.minScore = o.langScore;
  cfg.pii.emailPlaceholder = o.emailPlaceholder;
  cfg.pii.ipPlaceholder = o.ipPlaceholder;
  for (const s of o.skip
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    const key = SWITCHABLE[s];
    if (!key) {
      throw new UserError(
        `unknown stage "${s}" in --skip`,
        `stages: ${Object.keys(SWITCHABLE).join(", ")}`,
      );
    }
    (cfg[key] as { enabled: boolean }).enabled = false;
  }
  return JSON.parse(JSON.stringify(cfg)) as DataConfig; // drop undefined fields: stable hash
}

export function registerData(program: Command): void {
  const data = program
    .command("data")
    .description("turn WARC/JSONL into clean text (FineWeb-style) and token shards");

  data
    .command("run")
    .description(
      "filter, deduplicate and scrub a corpus: URL filter → HTML extraction → language ID → Gopher repetition → " +
        "Gopher quality → C4 → FineWeb → MinHash dedup → PII; writes clean-*.jsonl.gz, funnel.json/.svg and removed/",
    )
    .option(
      "--run <name>",
      "run name (reads runs/<name>/corpus/, writes runs/<name>/data/)",
      "default",
    )
    .option(
      "--input <paths...>",
      "input files or directories (.warc, .warc.gz, .jsonl, .jsonl.gz) (default: runs/<name>/corpus/)",
    )
    .option("--out <dir>", "output directory (default: runs/<name>/data/)")
    .option(
      "--tasks <n>",
      "number of tasks; input file i goes to task i mod n (default: number of input files, at most 64)",
      int("--tasks"),
    )
    .option(
      "--workers <n>",
      "local worker threads (0 = run in the main thread)",
      int("--workers"),
      availableParallelism(),
    )
    .addOption(
      new Option("--executor <kind>", "where tasks run")
        .choices(["local", "slurm"])
        .default("local"),
    )
    .addOption(
      new Option(
        "--phase <phase>",
        "run only this phase from the saved config (what Slurm jobs call)",
      ).choices(["filter", "dedup", "finalize", "report"]),
    )
    .option(
      "--task <i>",
      "the task of --phase filter|finalize to run (Slurm: $SLURM_ARRAY_TASK_ID)",
      int("--task"),
    )
    .option(
      "--skip <stages>",
      `comma-separated stages to switch off: ${Object.keys(SWITCHABLE).join(", ")}`,
      "",
    )
    .option(
      "--languages <codes>",
      "ISO 639-1 languages to keep, comma-separated ('all' keeps every language)",
      "en",
    )
    .option(
      "--lang-score <x>",
      "minimum language score (eld's top score, 0–1)",
      num("--lang-score"),
      0.5,
    )
    .addOption(
      new Option("--detector <name>", "language detector (eld = large tables)")
        .choices(["eld", "eld-small", "franc"])
        .default("eld"),
    )
    .addOption(
      new Option("--extractor <name>", "HTML text extractor")
        .choices(["fast", "readability"])
        .default("fast"),
    )
    .option(
      "--extract-timeout <ms>",
      "drop documents whose extraction takes longer",
      int("--extract-timeout"),
      1000,
    )
    .option(
      "--max-bytes <n>",
      "skip records larger than this many bytes",
      int("--max-bytes"),
      10 * 1024 * 1024,
    )
    .option(
      "--blocked-domains <file>",
      "extra blocked domains, one a line (added to the shipped list)",
    )
    .option("--blocked-urls <file>", "blocked URLs, one a line")
    .option("--banned-words <file>", "extra words that ban a URL when they appear as a URL token")
    .option("--soft-banned-words <file>", "extra words of which two in one URL ban it")
    .option("--banned-substrings <file>", "extra substrings that ban a URL")
    .option("--email-placeholder <s>", "replacement for e-mail addresses", "email@example.com")
    .option("--ip-placeholder <s>", "replacement for public IPv4 addresses", "192.0.2.1")
    .option("--no-removed", "do not write removed/<stage>.jsonl.gz")
    .option(
      "--sbatch-arg <args...>",
      "extra #SBATCH lines for --executor slurm (e.g. --partition=cpu)",
      [],
    )
    .option("--dry-run", "with --executor slurm: write the sbatch scripts, do not submit", false)
    .option("--wait", "with --executor slurm: wait for the jobs and print the funnel", false)
    .option("--quiet", "no progress output", false)
    .action(async (o: RunOpts) => {
      const outDir = resolve(o.out ?? new RunDir(o.run).path("data"));
      if (o.phase) {
        if (!existsSync(join(outDir, "work", "config.json"))) {
          throw new UserError(
            `no saved config in ${outDir}/work/`,
            "start the job with `chatforge data run` first",
          );
        }
        const cfg = loadConfig(outDir);
        if ((o.phase === "filter" || o.phase === "finalize") && o.task === undefined) {
          throw new UserError(`--phase ${o.phase} needs --task <i>`);
        }
        await runPhase(cfg, o.phase, o.task ?? 0);
        return;
      }
      const cfg = buildConfig(o, outDir);
      const log = new RunDir(o.run).log("data");
      log.start({ ...cfg, inputs: cfg.inputs.length });
      if (o.executor === "slurm") {
        const sub = await submitSlurm(cfg, { sbatchArgs: o.sbatchArg, dryRun: o.dryRun });
        log.write("submitted", { ...sub });
        process.stdout.write(
          o.dryRun
            ? `wrote sbatch scripts:\n${Object.values(sub.scripts).join("\n")}\n`
            : `submitted: ${Object.entries(sub.jobIds)
                .map(([p, id]) => `${p}=${id}`)
                .join(" ")}\nthe funnel will be in ${join(outDir, "funnel.json")}\n`,
        );
        if (o.wait && !o.dryRun) {
          const funnel = await waitForSlurm(cfg, sub);
          log.end({ executor: "slurm", funnel: funnel.stages });
          process.stdout.write(`${formatFunnel(funnel)}\n`);
        }
        return;
      }
      const funnel = await runLocal(cfg, { workers: o.workers, quiet: o.quiet });
      // the picture also goes where the run's report collects its plots
      await writeFileAtomic(
        new RunDir(o.run).path("plots", "data-funnel.svg"),
        readFileSync(join(outDir, "funnel.svg")),
      );
      log.end({ funnel: funnel.stages });
      process.stdout.write(
        `${formatFunnel(funnel)}\n\nclean text, funnel.json and funnel.svg in ${outDir}\n`,
      );
    });

  data
    .command("langid-eval")
    .description(
      "measure language-ID accuracy per language on held-out text from Debian packages " +
        "(debian-reference-{en,de,fr,es,it,ja,zh-cn}, fortunes-{de,es,ru})",
    )
    .option(
      "--detectors <names>",
      "comma-separated detectors to compare (eld, eld-small, franc)",
      "eld,eld-small,franc",
    )
    .option("--per-lang <n>", "samples per corpus and language", int("--per-lang"), 200)
    .option("--json <file>", "also write the full result (with confusions) as JSON")
    .action(async (o: { detectors: string; perLang: number; json?: string }) => {
      const dets = o.detectors.split(",").map((s) => s.trim()) as DetectorName[];
      for (const d of dets) {
        if (!["eld", "eld-small", "franc"].includes(d))
          throw new UserError(`unknown detector "${d}"`, "use eld, eld-small or franc");
      }
      const r = await evaluateLanguageId(dets, o.perLang);
      if (r.rows.length === 0) {
        throw new UserError("no evaluation text found", `apt-get install ${r.missing.join(" ")}`);
      }
      process.stdout.write(`${formatLangEval(r)}\n`);
      if (o.json) await writeJsonAtomic(resolve(o.json), r);
    });

  data
    .command("tokenize")
    .description(
      "encode clean text into llm.c-format token shards (runs/<name>/shards/{train,val}_NNNNNN.bin), " +
        "<|endoftext|> before each document",
    )
    .option("--run <name>", "run name", "default")
    .option("--data <dir>", "folder with clean-*.jsonl.gz (default: runs/<name>/data/)")
    .option("--out <dir>", "output folder (default: runs/<name>/shards/)")
    .option(
      "--tokenizer <dir>",
      "tokenizer folder from `chatforge tokenizer train` (default: runs/<name>/tokenizer/)",
    )
    .option(
      "--encoding <name>",
      "use a packaged tokenizer instead: gpt2, cl100k_base, o200k_base (also gpt4, gpt4o)",
    )
    .option(
      "--val-fraction <x>",
      "fraction of documents in the validation split (every k-th document)",
      num("--val-fraction"),
      0.01,
    )
    .option("--shard-tokens <n>", "tokens per shard", int("--shard-tokens"), 10_000_000)
    .option(
      "--workers <n>",
      "worker threads encoding files in parallel",
      int("--workers"),
      availableParallelism(),
    )
    .option("--quiet", "no progress output", false)
    .action(
      async (o: {
        run: string;
        data?: string;
        out?: string;
        tokenizer?: string;
        encoding?: string;
        valFraction: number;
        shardTokens: number;
        workers: number;
        quiet: boolean;
      }) => {
        const rd = new RunDir(o.run);
        const tokenizer = o.encoding ?? resolve(o.tokenizer ?? rd.path("tokenizer"));
        if (!o.encoding && !existsSync(tokenizer)) {
          throw new UserError(
            `no tokenizer at ${tokenizer}`,
            "train one with `chatforge tokenizer train`, or pass --encoding gpt2 (or cl100k_base, o200k_base)",
          );
        }
        const log = rd.log("data-tokenize");
        log.start({ ...o, tokenizer });
        const s = await tokenizeData({
          dataDir: resolve(o.data ?? rd.path("data")),
          outDir: resolve(o.out ?? rd.path("shards")),
          tokenizer,
          valFraction: o.valFraction,
          shardTokens: o.shardTokens,
          workers: o.workers,
          quiet: o.quiet,
        });
        log.end({ ...s });
        process.stdout.write(
          `tokenizer ${s.tokenizer} (vocab ${s.vocabSize}, ${s.tokenBytes}-byte tokens, <|endoftext|> = ${s.eot})\n` +
            `train: ${s.train.docs} docs, ${s.train.tokens} tokens, ${s.train.shards.length} shards\n` +
            `val:   ${s.val.docs} docs, ${s.val.tokens} tokens, ${s.val.shards.length} shards\n` +
            `in ${s.seconds.toFixed(1)} s → ${dirname(s.train.shards[0] ?? s.val.shards[0] ?? "")}\n`,
        );
      },
    );
}
