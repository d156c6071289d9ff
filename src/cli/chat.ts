/** `chatforge chat`: talk to a fine-tuned model in the terminal (or answer one --prompt). */
import { createInterface } from "node:readline/promises";
import { type Command, Option } from "commander";
import { type ChatReply, ChatSession, requireChatTokens } from "../infer/chat-session.js";
import { openForGeneration } from "../infer/load.js";
import { renderTokens } from "../tokenizer/report.js";
import { Tokenizer } from "../tokenizer/tokenizer.js";
import { toolsForRun } from "../tools/for-run.js";
import { RunDir } from "../util/run-dir.js";
import { positiveInt } from "./args.js";
import { addComputeOptions, setupCompute } from "./compute.js";
import { replyPrinter } from "./reply-printer.js";
import { addSamplingOptions, samplingFrom } from "./sampling-options.js";

const HELP = `commands:
  /reset     forget the conversation (the system prompt stays)
  /tokens    show the last exchange as the tokens the model saw (special tokens marked)
  /probs     the top next-token probabilities at each token the model chose in the last reply
  /system T  set the system prompt to T (empty: none) and reset
  /help      this list
  /quit      leave (or Ctrl-D)`;

/** Why a reply did not close its turn, in words. */
function cutReason(r: ChatReply): string {
  if (r.reason === "length") return "the --max-tokens limit";
  if (r.reason === "context") return "the end of the model's context";
  return "a turn boundary that was not <|im_end|>";
}

export function registerChat(program: Command): void {
  const cmd = program
    .command("chat")
    .summary("chat with a fine-tuned model in the terminal (streaming, multi-turn)")
    .description(
      "A terminal chat with a checkpoint (the SFT model by default). Replies stream as they are " +
        "generated and end when the model writes <|im_end|>; the history is sent back each turn " +
        "and trimmed from the oldest exchange when it outgrows the context (you are told). " +
        "Type /help for the commands. --prompt answers one message and exits (for scripts).",
    )
    .option("-r, --run <name>", "run name", "speedrun")
    .option("--stage <name>", "which checkpoints/<stage> to load (its latest step)", "sft")
    .option("--checkpoint <dir>", "a checkpoint folder (overrides --stage)")
    .option("--tokenizer <dir>", "tokenizer (default: runs/<run>/tokenizer)")
    .option("-s, --system <text>", "a system prompt")
    .option("-p, --prompt <text>", "answer this one message, print the reply and exit")
    .option("--no-tools", "no code interpreter or search inside replies")
    .addOption(
      new Option("-n, --max-tokens <n>", "longest reply, in tokens")
        .default(200)
        .argParser(positiveInt("--max-tokens")),
    );
  addSamplingOptions(cmd, { temperature: 0.6 });
  addComputeOptions(cmd);
  cmd.action(async (o) => {
    await setupCompute(o, false, "decode");
    const run = new RunDir(o.run);
    const tokDir = o.tokenizer ?? run.path("tokenizer");
    const tok = await Tokenizer.load(tokDir);
    requireChatTokens(tok, tokDir);
    const where = o.checkpoint ?? run.path("checkpoints", o.stage);
    const { ckpt, decoder } = await openForGeneration(where, tok);
    const { tools, missing } = o.tools ? await toolsForRun(run, tok) : { tools: [], missing: [] };
    for (const m of missing) process.stderr.write(`note: ${m}\n`);
    const session = new ChatSession(decoder, tok, {
      tools,
      ...samplingFrom(o),
      maxNewTokens: o.maxTokens,
      seed: o.seed,
      system: o.system,
      probsK: 5,
    });
    const out = process.stdout;
    const notice = (s: string) => process.stderr.write(`${s}\n`);

    if (o.prompt !== undefined) {
      const r = session.send(
        o.prompt,
        replyPrinter(tok, (t) => out.write(t), false),
      );
      out.write("\n");
      if (!r.ended) notice(`[reply cut: ${cutReason(r)} after ${r.tokens.length} tokens]`);
      return;
    }

    const color = out.isTTY;
    const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);
    const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
    out.write(
      dim(
        `chatforge chat — ${ckpt.dir} (${ckpt.modelConfig.family}, context ${ckpt.modelConfig.nCtx} tokens). /help for commands, Ctrl-D to leave.\n`,
      ),
    );
    if (!/sft|rl|dpo|chat/i.test(ckpt.dir))
      notice(
        "note: this looks like a base model; it has not learned the chat format (use --stage sft)",
      );
    const rl = createInterface({ input: process.stdin, output: out, terminal: out.isTTY });
    const show = (s: string) => JSON.stringify(s).slice(1, -1);
    try {
      for (;;) {
        let line: string;
        try {
          line = await rl.question(bold("you> "));
        } catch {
          break; // closed (Ctrl-D / end of input)
        }
        const text = line.trim();
        if (!text) continue;
        if (text === "/quit" || text === "/exit") break;
        if (text === "/help") {
          out.write(`${HELP}\n`);
          continue;
        }
        if (text === "/reset") {
          session.reset();
          out.write(dim("(conversation forgotten)\n"));
          continue;
        }
        if (text.startsWith("/system")) {
          session.o.system = text.slice("/system".length).trim() || undefined;
          session.reset();
          out.write(
            dim(`(system prompt ${session.o.system ? "set" : "cleared"}; conversation reset)\n`),
          );
          continue;
        }
        if (text === "/tokens" || text === "/probs") {
          const last = session.last;
          if (!last) {
            out.write(dim("(nothing yet: send a message first)\n"));
            continue;
          }
          if (text === "/tokens") {
            out.write(renderTokens(tok, [...last.promptIds, ...last.tokens], { color }));
          } else {
            for (const [i, { id: chosen, top }] of last.probs.entries()) {
              const cells = top.map(
                (t) =>
                  `${show(tok.decode([t.id])).padStart(12)} ${(100 * t.prob).toFixed(1).padStart(5)}%`,
              );
              const pick = show(tok.decode([chosen]));
              out.write(`${String(i).padStart(4)}  ${cells.join("  ")}   → ${pick}\n`);
            }
          }
          continue;
        }
        if (text.startsWith("/")) {
          out.write(dim(`unknown command ${text.split(/\s/)[0]}; /help lists them\n`));
          continue;
        }
        out.write(bold("chatforge> "));
        const r = session.send(
          text,
          replyPrinter(tok, (t) => out.write(t), color),
        );
        out.write("\n");
        if (r.dropped)
          notice(
            dim(`(the history outgrew the context: dropped the ${r.dropped} oldest messages)`),
          );
        if (!r.ended) notice(dim(`(reply cut: ${cutReason(r)} after ${r.tokens.length} tokens)`));
      }
    } finally {
      rl.close();
    }
  });
}
