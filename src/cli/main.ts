/**
 * The `chatforge` command line: one sub-command per pipeline stage. Each sub-command lives in
 * its own file in this folder, parses arguments only, and calls the library.
 */
import { Command } from "commander";
import { toolsForRun } from "../tools/for-run.js";
import { formatError } from "../util/errors.js";
import { RunDir } from "../util/run-dir.js";
import { packageVersion } from "../util/versions.js";
import { registerChat } from "./chat.js";
import { registerCompute } from "./compute.js";
import { registerCorpus } from "./corpus.js";
import { registerData } from "./data.js";
import { registerExport } from "./export.js";
import { registerIndex } from "./index-cmd.js";
import { registerSample } from "./sample.js";
import { registerServe } from "./serve.js";
import { registerSft } from "./sft.js";
import { registerSpeedrun } from "./speedrun.js";
import { registerTokenizer } from "./tokenizer.js";
import { registerTool } from "./tool.js";
import { registerTrain } from "./train.js";

export function buildProgram(): Command {
  const program = new Command("chatforge")
    .description(
      "From raw web text to a ChatGPT-like assistant, on a CPU.\n" +
        "Every stage reads and writes files under runs/<name>/ (set the root with CHATFORGE_RUNS).",
    )
    .version(packageVersion())
    .showHelpAfterError("(run with --help for usage)")
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false });
  registerCorpus(program);
  registerData(program);
  registerTokenizer(program);
  registerTrain(program);
  registerSample(program);
  registerSft(program);
  registerChat(program);
  registerIndex(program);
  registerTool(program);
  registerServe(program, {
    tools: async (run, tok) => (await toolsForRun(new RunDir(run), tok)).tools,
  });
  registerSpeedrun(program);
  registerExport(program);
  registerCompute(program);
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  const debug = Boolean(process.env.CHATFORGE_DEBUG);
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`${formatError(err, debug)}\n`);
    process.exitCode = 1;
  }
}
