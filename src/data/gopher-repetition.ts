/**
 * Gopher repetition filter (Rae et al., 2021, as FineWeb runs it): drops documents that
 * repeat themselves, by the fraction of duplicated lines and paragraphs (and of their
 * characters), the character share of the most frequent 2/3/4-gram, and the character share
 * of duplicated 5…10-grams.
 */
import { findDuplicates, splitWords } from "./text-stats.js";

export interface GopherRepetitionConfig {
  enabled: boolean;
  dupLineFrac: number;
  dupParaFrac: number;
  dupLineCharFrac: number;
  dupParaCharFrac: number;
  /** [n, max character share of the most frequent n-gram]. */
  topNGrams: [number, number][];
  /** [n, max character share of duplicated n-grams]. */
  dupNGrams: [number, number][];
}

export const DEFAULT_GOPHER_REPETITION: GopherRepetitionConfig = {
  enabled: true,
  dupLineFrac: 0.3,
  dupParaFrac: 0.3,
  dupLineCharFrac: 0.2,
  dupParaCharFrac: 0.2,
  topNGrams: [
    [2, 0.2],
    [3, 0.18],
    [4, 0.16],
  ],
  dupNGrams: [
    [5, 0.15],
    [6, 0.14],
    [7, 0.13],
    [8, 0.12],
    [9, 0.11],
    [10, 0.1],
  ],
};

/** Share of characters in the most frequent n-gram (counted over all positions). */
export function topNGramCharShare(words: string[], n: number, totalChars: number): number {
  if (words.length < n || totalChars === 0) return 0;
  const counts = new Map<string, number>();
  let best = "";
  let bestCount = 0;
  for (let i = 0; i + n <= words.length; i++) {
    const g = words.slice(i, i + n).join(" ");
    const c = (counts.get(g) ?? 0) + 1;
    counts.set(g, c);
    if (c > bestCount) {
      bestCount = c;
      best = g;
    }
  }
  return bestCount > 1 ? (best.length * bestCount) / totalChars : 0;
}

/** Share of characters in n-grams that repeat an earlier one (non-overlapping, greedy). */
export function dupNGramCharShare(words: string[], n: number, totalChars: number): number {
  if (words.length < n || totalChars === 0) return 0;
  const seen = new Set<string>();
  let dupChars = 0;
  let i = 0;
  while (i + n <= words.length) {
    const g = words.slice(i, i + n).join(" ");
    if (seen.has(g)) {
      for (let j = i; j < i + n; j++) dupChars += (words[j] as string).length;
      i += n;
    } else {
      seen.add(g);
      i++;
    }
  }
  return dupChars / totalChars;
}

/** The reason to drop `text`, or null. */
export function gopherRepetition(text: string, cfg: GopherRepetitionConfig): string | null {
  const total = text.length;
  const paras = text.trim().split(/\n{2,}/);
  const pd = findDuplicates(paras);
  if (pd.count / paras.length > cfg.dupParaFrac) return "dup-para-frac";
  if (pd.chars / total > cfg.dupParaCharFrac) return "dup-para-char-frac";
  const lines = text.split(/\n+/);
  const ld = findDuplicates(lines);
  if (ld.count / lines.length > cfg.dupLineFrac) return "dup-line-frac";
  if (ld.chars / total > cfg.dupLineCharFrac) return "dup-line-char-frac";
  const words = splitWords(text);
  for (const [n, max] of cfg.topNGrams) {
    if (topNGramCharShare(words, n, total) > max) return `top-${n}-gram`;
  }
  for (const [n, max] of cfg.dupNGrams) {
    if (dupNGramCharShare(words, n, total) > max) return `dup-${n}-gram`;
  }
  return null;
}
