/**
 * Unicode properties the split patterns need, as one byte of flags per code point.
 *
 * The reference patterns are Rust regexes (tiktoken): `\p{L}`, `\p{N}`, the letter sub-categories
 * GPT-4o's pattern uses, and `\s`, which in Rust means the Unicode `White_Space` property. (JS's own
 * `\s` differs: it adds U+FEFF and lacks U+0085, so we never use it.) The table is built once, at
 * first use, by running V8's `\p{…}` property escapes over every code point, so it follows the
 * Unicode version of the running Node.
 */

/** `\p{L}`: any letter. */
export const F_LETTER = 1;
/** `\p{N}`: any number. */
export const F_NUMBER = 2;
/** `White_Space` (Rust's `\s`). */
export const F_SPACE = 4;
/** `\p{Lu}` or `\p{Lt}`: upper/title-case letters. */
export const F_UPPER = 8;
/** `\p{Ll}`: lower-case letters. */
export const F_LOWER = 16;
/** `\p{Lm}` or `\p{Lo}`: modifier and other letters (both of GPT-4o's letter classes hold them). */
export const F_OTHER_LETTER = 32;
/** `\p{M}`: combining marks (also in both of GPT-4o's letter classes). */
export const F_MARK = 64;

let table: Uint8Array | undefined;

/** The flag byte of every code point 0..0x10FFFF (surrogates have none). */
export function unicodeFlags(): Uint8Array {
  if (table) return table;
  const t = new Uint8Array(0x110000);
  // One string holding every non-surrogate code point, in order; each property regex is run over
  // it once and marks the code points it matches.
  const parts: string[] = [];
  const block: number[] = [];
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    block.push(cp);
    if (block.length === 4096) {
      parts.push(String.fromCodePoint(...block));
      block.length = 0;
    }
  }
  parts.push(String.fromCodePoint(...block));
  const all = parts.join("");
  const props: [RegExp, number][] = [
    [/\p{L}+/gu, F_LETTER],
    [/\p{N}+/gu, F_NUMBER],
    [/\p{White_Space}+/gu, F_SPACE],
    [/[\p{Lu}\p{Lt}]+/gu, F_UPPER],
    [/\p{Ll}+/gu, F_LOWER],
    [/[\p{Lm}\p{Lo}]+/gu, F_OTHER_LETTER],
    [/\p{M}+/gu, F_MARK],
  ];
  for (const [re, flag] of props) {
    for (const m of all.matchAll(re)) {
      // Walk the matched run code point by code point.
      const s = m[0];
      for (let i = 0; i < s.length; ) {
        const cp = s.codePointAt(i)!;
        t[cp]! |= flag;
        i += cp > 0xffff ? 2 : 1;
      }
    }
  }
  table = t;
  return t;
}
