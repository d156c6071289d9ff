/**
 * Small text helpers shared by the quality filters: splitting into words, lines and
 * paragraphs, and counting repeated elements the way Gopher (Rae et al., 2021) does.
 */

/** Whitespace-separated words. */
export function splitWords(text: string): string[] {
  const w = text.split(/\s+/);
  if (w.length > 0 && w[0] === "") w.shift();
  if (w.length > 0 && w[w.length - 1] === "") w.pop();
  return w;
}

/** Number of whitespace-separated words and the length of the longest, without allocating. */
export function wordStats(text: string): { count: number; longest: number } {
  let count = 0;
  let longest = 0;
  let cur = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // ASCII whitespace and the common Unicode spaces
    if (
      c === 32 ||
      (c >= 9 && c <= 13) ||
      c === 0xa0 ||
      c === 0x3000 ||
      (c >= 0x2000 && c <= 0x200a)
    ) {
      if (cur > 0) {
        count++;
        if (cur > longest) longest = cur;
        cur = 0;
      }
    } else cur++;
  }
  if (cur > 0) {
    count++;
    if (cur > longest) longest = cur;
  }
  return { count, longest };
}

/** Characters that count as punctuation/symbols (ASCII punctuation plus common Unicode). */
export const PUNCT_RE = /^[\p{P}\p{S}]+$/u;

export const HAS_LETTER = 1;
export const NOT_SYMBOL = 2;
const LETTER_RE = /\p{L}/u;
const SYMBOL_RE = /[\p{P}\p{S}]/u;

/**
 * Flags of a word: HAS_LETTER if any character is a letter, NOT_SYMBOL if any character is
 * not punctuation or a symbol. ASCII is classified by code; other characters by Unicode class.
 */
export function classifyWord(w: string): number {
  let flags = 0;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c < 128) {
      if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) flags |= HAS_LETTER | NOT_SYMBOL;
      else if (c >= 48 && c <= 57) flags |= NOT_SYMBOL;
      else if (c > 32) {
        // ASCII punctuation and symbols: no flag
      } else flags |= NOT_SYMBOL;
    } else {
      const cp = w.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      if (cp > 0xffff) i++; // the second half of a surrogate pair
      if (LETTER_RE.test(ch)) flags |= HAS_LETTER | NOT_SYMBOL;
      else if (!SYMBOL_RE.test(ch)) flags |= NOT_SYMBOL;
    }
    if (flags === (HAS_LETTER | NOT_SYMBOL)) return flags;
  }
  return flags;
}

/** True if the word has at least one letter. */
export function hasLetter(w: string): boolean {
  return /\p{L}/u.test(w);
}

/**
 * Counts elements that already appeared earlier in the list, and their characters
 * (the first occurrence is not counted as a duplicate).
 */
export function findDuplicates(items: string[]): { count: number; chars: number } {
  const seen = new Set<string>();
  let count = 0;
  let chars = 0;
  for (const x of items) {
    if (seen.has(x)) {
      count++;
      chars += x.length;
    } else seen.add(x);
  }
  return { count, chars };
}

/** Sentence count: runs of terminal punctuation followed by space or the end. */
export function countSentences(text: string): number {
  const m = text.match(/[.!?。！？]+(?=\s|$)/g);
  return m ? m.length : 0;
}
