import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { adversarialInputs } from "./adversarial.js";
import {
  CL100K_PATTERN,
  O200K_PATTERN,
  R50K_PATTERN,
  regexScanner,
  scannerFor,
  splitText,
} from "./patterns.js";
import { translatePattern } from "./regex.js";

const PATTERNS = { r50k: R50K_PATTERN, cl100k: CL100K_PATTERN, o200k: O200K_PATTERN };

// Strings biased towards the characters where the patterns' rules meet: apostrophes and
// contraction letters, every kind of white space, letters of each case class, marks, digits,
// punctuation, surrogates (paired and lone) and astral characters.
const interesting = fc.constantFrom(
  ..."'sStTdDmMlLrReEvVſ \t\n\r\u000b\u000c\u0085\u00a0\u1680\u2000\u2028\u2029\u3000\ufeff/!.,-_aZǅʰ\u0301\u0903ना1١½Ⅻ😀👍🏽\u200d\ud800\udc00".split(
    "",
  ),
  "\ud83d\ude00",
  "𝐀",
  "𐐨",
  "ß",
);
const textArb = fc.oneof(
  fc.string({ unit: interesting, maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
);

for (const [name, pattern] of Object.entries(PATTERNS)) {
  const fast = scannerFor(pattern);
  const ref = regexScanner(pattern);

  test(`${name}: the hand-written scanner equals the regex on random text`, () => {
    assert.notEqual(fast, ref);
    fc.assert(
      fc.property(textArb, (s) => {
        assert.deepEqual(splitText(s, fast), splitText(s, ref));
      }),
      { numRuns: 3000 },
    );
  });

  test(`${name}: the hand-written scanner equals the regex on adversarial text`, () => {
    for (const s of adversarialInputs({ longLength: 5000 })) {
      assert.deepEqual(splitText(s, fast), splitText(s, ref), JSON.stringify(s.slice(0, 80)));
    }
  });

  test(`${name}: chunks cover the text exactly`, () => {
    fc.assert(
      fc.property(textArb, (s) => {
        assert.equal(splitText(s, fast).join(""), s);
      }),
      { numRuns: 1000 },
    );
  });
}

test("regex translation: \\s is Unicode White_Space (U+0085 yes, U+FEFF no)", () => {
  const re = translatePattern("\\s+|\\S+");
  assert.deepEqual("a\u0085\ufeffb".match(re), ["a", "\u0085", "\ufeffb"]);
});

test("regex translation: possessive quantifiers do not give back", () => {
  // Greedy "a+" gives one "a" back so that "ab" can match; possessive "a++" cannot.
  assert.deepEqual("aaab".match(translatePattern("a+ab|.")), ["aaab"]);
  assert.deepEqual("aaab".match(translatePattern("a++ab|.")), ["a", "a", "a", "b"]);
  assert.deepEqual("xxx".match(translatePattern("x?+x|.")), ["xx", "x"]);
});

test("regex translation: (?i:…) folds case like Rust (s also matches ſ, k also K)", () => {
  const re = translatePattern("(?i:'s|k)|.");
  assert.deepEqual("'S'ſK\u212a".match(re), ["'S", "'ſ", "K", "\u212a"]);
});

test("regex translation: constructs with a different meaning in JS are rejected", () => {
  assert.throws(() => translatePattern("\\w+"), /not supported/);
  assert.throws(() => translatePattern("(a"), /unclosed/);
});

test("custom patterns work through the regex", () => {
  const s = regexScanner("\\p{L}+|\\p{N}|[^\\p{L}\\p{N}]");
  assert.deepEqual(splitText("ab12 c", s), ["ab", "1", "2", " ", "c"]);
});
