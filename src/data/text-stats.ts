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

/** Characters that count as punctuation/symbols (ASCII punctuation plus common Unicode). */
export const PUNCT_RE = /^[\p{P}\p{S}]+$/u;

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
