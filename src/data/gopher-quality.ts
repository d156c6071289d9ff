/**
 * Gopher quality filter (Rae et al., 2021; FineWeb's thresholds): document length in words,
 * mean word length, symbol-to-word ratio, bullet and ellipsis lines, words with letters,
 * and a minimum of English stop words (which also catches word salad).
 */
import { classifyWord, HAS_LETTER, NOT_SYMBOL, splitWords } from "./text-stats.js";

export interface GopherQualityConfig {
  enabled: boolean;
  minWords: number;
  maxWords: number;
  minMeanWordLength: number;
  maxMeanWordLength: number;
  maxSymbolWordRatio: number;
  maxBulletLinesRatio: number;
  maxEllipsisLinesRatio: number;
  minAlphaWordsRatio: number;
  minStopWords: number;
  stopWords: string[];
}

export const DEFAULT_GOPHER_QUALITY: GopherQualityConfig = {
  enabled: true,
  minWords: 50,
  maxWords: 100_000,
  minMeanWordLength: 3,
  maxMeanWordLength: 10,
  maxSymbolWordRatio: 0.1,
  maxBulletLinesRatio: 0.9,
  maxEllipsisLinesRatio: 0.3,
  minAlphaWordsRatio: 0.8,
  minStopWords: 2,
  stopWords: ["the", "be", "to", "of", "and", "that", "have", "with"],
};

const BULLET_RE = /^\s*[•\-*‣⁃◦▪●·]/;

function count(text: string, sub: string): number {
  let n = 0;
  for (let i = text.indexOf(sub); i >= 0; i = text.indexOf(sub, i + sub.length)) n++;
  return n;
}

/** The reason to drop `text`, or null. */
export function gopherQuality(
  text: string,
  cfg: GopherQualityConfig,
  words = splitWords(text),
): string | null {
  const nWords = words.length;
  let nonSymbol = 0;
  let nonSymbolChars = 0;
  let alpha = 0;
  let stop = 0;
  const stopSet = new Set(cfg.stopWords);
  for (const w of words) {
    const k = classifyWord(w);
    if (k & NOT_SYMBOL) {
      nonSymbol++;
      nonSymbolChars += w.length;
    }
    if (k & HAS_LETTER) alpha++;
    if (stopSet.has(w.toLowerCase())) stop++;
  }
  if (nonSymbol < cfg.minWords) return "too-few-words";
  if (nonSymbol > cfg.maxWords) return "too-many-words";
  const mean = nonSymbolChars / nonSymbol;
  if (mean < cfg.minMeanWordLength) return "short-mean-word";
  if (mean > cfg.maxMeanWordLength) return "long-mean-word";
  if (count(text, "#") / nWords > cfg.maxSymbolWordRatio) return "too-many-hashes";
  if ((count(text, "...") + count(text, "…")) / nWords > cfg.maxSymbolWordRatio)
    return "too-many-ellipses";
  const lines = text.split("\n");
  let bullets = 0;
  let ellipsis = 0;
  for (const l of lines) {
    if (BULLET_RE.test(l)) bullets++;
    const t = l.trimEnd();
    if (t.endsWith("...") || t.endsWith("…")) ellipsis++;
  }
  if (bullets / lines.length > cfg.maxBulletLinesRatio) return "bullet-lines";
  if (ellipsis / lines.length > cfg.maxEllipsisLinesRatio) return "ellipsis-lines";
  if (alpha / nWords < cfg.minAlphaWordsRatio) return "few-alpha-words";
  if (stop < cfg.minStopWords) return "few-stop-words";
  return null;
}
