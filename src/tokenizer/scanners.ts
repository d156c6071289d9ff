/**
 * Hand-written pre-tokenizers for the three built-in split patterns. Each one walks the text once,
 * over UTF-16 code units, looks code points up in the flag table of `unicode.ts`, and reports the
 * chunks the reference regex would match, in order, as [start, end) code-unit offsets.
 *
 * Each branch below names the regex alternative it implements; alternatives are tried in the
 * regex's order, with the regex's backtracking worked out by hand. `pattern.test.ts` checks every
 * scanner against the regex itself (translated to JS by `regex.ts`) on random and adversarial
 * text, and `tiktoken.test.ts` checks the resulting ids against the `tiktoken` package.
 */
import {
  F_LETTER,
  F_LOWER,
  F_MARK,
  F_NUMBER,
  F_OTHER_LETTER,
  F_SPACE,
  F_UPPER,
  unicodeFlags,
} from "./unicode.js";

/** Receives one chunk: code-unit offsets [start, end) into the scanned text. */
export type ChunkSink = (start: number, end: number) => void;
/** A pre-tokenizer: calls `emit` once per chunk, left to right, covering the matched text. */
export type Scanner = (text: string, emit: ChunkSink) => void;

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const APOS = 0x27;

/** The code point at `i` (a lone surrogate stands for itself; it has no flags). */
function cpAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  }
  return c;
}

/** Code units taken by code point `cp`. */
function width(cp: number): number {
  return cp > 0xffff ? 2 : 1;
}

/** The end of the run of code points from `i` whose flags intersect `mask`. */
function runEnd(s: string, i: number, mask: number, T: Uint8Array): number {
  const n = s.length;
  while (i < n) {
    const cp = cpAt(s, i);
    if ((T[cp]! & mask) === 0) break;
    i += width(cp);
  }
  return i;
}

/**
 * Length (code units) of a contraction `'s|'t|'re|'ve|'m|'ll|'d` whose letters start at `i`
 * (just after the apostrophe), or 0. `ignoreCase` follows Rust's `(?i)`, which uses Unicode simple
 * case folding: so `s` also matches `S` and `ſ` (U+017F).
 */
function contraction(s: string, i: number, ignoreCase: boolean): number {
  if (i >= s.length) return 0;
  let a = s.charCodeAt(i);
  if (ignoreCase) {
    if (a === 0x17f) return 1; // ſ folds to s
    if (a >= 0x41 && a <= 0x5a) a += 32;
  }
  if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64) return 1; // s t m d
  if (i + 1 >= s.length) return 0;
  let b = s.charCodeAt(i + 1);
  if (ignoreCase && b >= 0x41 && b <= 0x5a) b += 32;
  if ((a === 0x72 || a === 0x76) && b === 0x65) return 2; // re ve
  if (a === 0x6c && b === 0x6c) return 2; // ll
  return 0;
}

/**
 * The shared whitespace tail of the cl100k/o200k patterns, at a white-space code point `i`:
 * `\s*[\r\n]+` (up to and including the last newline of the run), else `\s+(?!\S)` (the run,
 * minus its last character unless the text ends there), else `\s+` (one character).
 * White_Space code points are all in the BMP, so each takes one code unit.
 */
function whitespaceEnd(s: string, i: number, T: Uint8Array): number {
  const n = s.length;
  let e = i;
  let lastNl = -1;
  while (e < n) {
    const c = s.charCodeAt(e);
    if ((T[c]! & F_SPACE) === 0) break;
    if (c === CR || c === LF) lastNl = e;
    e++;
  }
  if (lastNl >= 0) return lastNl + 1;
  if (e === n || e - i === 1) return e;
  return e - 1;
}

/**
 * GPT-2 (r50k_base):
 * `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
 */
export const scanR50k: Scanner = (s, emit) => {
  const T = unicodeFlags();
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)
    if (c === APOS) {
      const k = contraction(s, i + 1, false);
      if (k) {
        emit(i, i + 1 + k);
        i += 1 + k;
        continue;
      }
    }
    // ' ?' then letters, numbers or other symbols
    const j = c === SPACE && i + 1 < n ? i + 1 : i;
    const cp = cpAt(s, j);
    const f = T[cp]!;
    let end = -1;
    if (f & F_LETTER) end = runEnd(s, j + width(cp), F_LETTER, T);
    else if (f & F_NUMBER) end = runEnd(s, j + width(cp), F_NUMBER, T);
    else if ((f & F_SPACE) === 0)
      end = runEndNot(s, j + width(cp), F_SPACE | F_LETTER | F_NUMBER, T);
    if (end < 0) {
      // \s+(?!\S)|\s+ : the run minus its last character, unless it ends the text or is one long
      let e = i;
      while (e < n && T[s.charCodeAt(e)]! & F_SPACE) e++;
      end = e === n || e - i === 1 ? e : e - 1;
    }
    emit(i, end);
    i = end;
  }
};

/** The end of the run of code points from `i` whose flags do NOT intersect `mask`. */
function runEndNot(s: string, i: number, mask: number, T: Uint8Array): number {
  const n = s.length;
  while (i < n) {
    const cp = cpAt(s, i);
    if (T[cp]! & mask) break;
    i += width(cp);
  }
  return i;
}

/** The end of a `[\r\n]*` run (or `[\r\n/]*` when `slash`). */
function newlinesEnd(s: string, i: number, slash: boolean): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === CR || c === LF || (slash && c === 0x2f)) i++;
    else break;
  }
  return i;
}

/**
 * GPT-4 (cl100k_base):
 * `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|`
 * `\s*[\r\n]+|\s+(?!\S)|\s+`
 */
export const scanCl100k: Scanner = (s, emit) => {
  const T = unicodeFlags();
  const n = s.length;
  let i = 0;
  while (i < n) {
    const cp = cpAt(s, i);
    const w = width(cp);
    const f = T[cp]!;
    let end: number;
    if (cp === APOS && contraction(s, i + 1, true)) {
      // (?i:'s|'t|'re|'ve|'m|'ll|'d)
      end = i + 1 + contraction(s, i + 1, true);
    } else if (f & F_LETTER) {
      // \p{L}+ (the optional prefix cannot match a letter)
      end = runEnd(s, i + w, F_LETTER, T);
    } else if (
      (f & F_NUMBER) === 0 &&
      cp !== CR &&
      cp !== LF &&
      i + w < n &&
      T[cpAt(s, i + w)]! & F_LETTER
    ) {
      // [^\r\n\p{L}\p{N}]\p{L}+
      end = runEnd(s, i + w, F_LETTER, T);
    } else if (f & F_NUMBER) {
      // \p{N}{1,3}
      end = i + w;
      for (let k = 1; k < 3 && end < n; k++) {
        const d = cpAt(s, end);
        if ((T[d]! & F_NUMBER) === 0) break;
        end += width(d);
      }
    } else {
      // ` ?[^\s\p{L}\p{N}]+[\r\n]*`, else the white-space alternatives
      const j = cp === SPACE ? i + 1 : i;
      if (j < n && (T[cpAt(s, j)]! & (F_SPACE | F_LETTER | F_NUMBER)) === 0) {
        end = newlinesEnd(s, runEndNot(s, j, F_SPACE | F_LETTER | F_NUMBER, T), false);
      } else {
        end = whitespaceEnd(s, i, T);
      }
    }
    emit(i, end);
    i = end;
  }
};

const O_UPPER = F_UPPER | F_OTHER_LETTER | F_MARK; // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
const O_LOWER = F_LOWER | F_OTHER_LETTER | F_MARK; // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
const O_BOTH = F_OTHER_LETTER | F_MARK; // in both classes

/** `[U]*[L]+` from `s` (U, L: GPT-4o's upper and lower letter classes): its end, or -1. */
function upperStarLowerPlus(str: string, s: number, T: Uint8Array): number {
  const e = runEnd(str, s, O_UPPER, T);
  if (e < str.length) {
    const cp = cpAt(str, e);
    if (T[cp]! & O_LOWER) return runEnd(str, e + width(cp), O_LOWER, T);
  }
  // Backtrack: the last code point of the U-run that is also in L ends the match.
  let last = -1;
  for (let k = s; k < e; ) {
    const cp = cpAt(str, k);
    const wk = width(cp);
    if (T[cp]! & O_BOTH) last = k + wk;
    k += wk;
  }
  return last;
}

/** `[U]+[L]*` from `s`: its end, or -1. */
function upperPlusLowerStar(str: string, s: number, T: Uint8Array): number {
  const e = runEnd(str, s, O_UPPER, T);
  if (e === s) return -1;
  return runEnd(str, e, O_LOWER, T);
}

/**
 * GPT-4o (o200k_base):
 * `[^\r\n\p{L}\p{N}]?[U]*[L]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[U]+[L]*(?i:…)?|`
 * `\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
 * with U = `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` and L = `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
 */
export const scanO200k: Scanner = (s, emit) => {
  const T = unicodeFlags();
  const n = s.length;
  let i = 0;
  while (i < n) {
    const cp = cpAt(s, i);
    const w = width(cp);
    const f = T[cp]!;
    // The optional prefix [^\r\n\p{L}\p{N}] is tried first (greedy), then without it.
    const hasPrefix = (f & (F_LETTER | F_NUMBER)) === 0 && cp !== CR && cp !== LF && i + w < n;
    let end = -1;
    if (hasPrefix) end = upperStarLowerPlus(s, i + w, T);
    if (end < 0) end = upperStarLowerPlus(s, i, T);
    if (end < 0 && hasPrefix) end = upperPlusLowerStar(s, i + w, T);
    if (end < 0) end = upperPlusLowerStar(s, i, T);
    if (end >= 0) {
      // (?i:'s|'t|'re|'ve|'m|'ll|'d)?
      if (end < n && s.charCodeAt(end) === APOS) {
        const k = contraction(s, end + 1, true);
        if (k) end += 1 + k;
      }
    } else if (f & F_NUMBER) {
      end = i + w;
      for (let k = 1; k < 3 && end < n; k++) {
        const d = cpAt(s, end);
        if ((T[d]! & F_NUMBER) === 0) break;
        end += width(d);
      }
    } else {
      const j = cp === SPACE ? i + 1 : i;
      if (j < n && (T[cpAt(s, j)]! & (F_SPACE | F_LETTER | F_NUMBER)) === 0) {
        end = newlinesEnd(s, runEndNot(s, j, F_SPACE | F_LETTER | F_NUMBER, T), true);
      } else {
        end = whitespaceEnd(s, i, T);
      }
    }
    emit(i, end);
    i = end;
  }
};
