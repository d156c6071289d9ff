/**
 * C4 filter (Raffel et al., 2020, as FineWeb runs it): removes boilerplate lines
 * ("javascript", cookie and terms notices, lines under 3 words, words over 1000 characters),
 * then drops the document if it contains "lorem ipsum" or a curly bracket (code), or has
 * fewer than 5 sentences left. FineWeb keeps lines without terminal punctuation (so do we).
 */
import { countSentences, wordStats } from "./text-stats.js";

export interface C4Config {
  enabled: boolean;
  minWordsPerLine: number;
  maxWordLength: number;
  minSentences: number;
  dropLoremIpsum: boolean;
  dropCurlyBracket: boolean;
  policySubstrings: string[];
}

export const DEFAULT_C4: C4Config = {
  enabled: true,
  minWordsPerLine: 3,
  maxWordLength: 1000,
  minSentences: 5,
  dropLoremIpsum: true,
  dropCurlyBracket: true,
  policySubstrings: [
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
    "accept cookies",
    "accept all cookies",
  ],
};

export type C4Result = { text: string; linesRemoved: number } | { reason: string };

/** Applies C4's line and document rules. */
export function c4Filter(text: string, cfg: C4Config): C4Result {
  const kept: string[] = [];
  let removed = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const lower = line.toLowerCase();
    if (cfg.dropLoremIpsum && lower.includes("lorem ipsum")) return { reason: "lorem-ipsum" };
    if (cfg.dropCurlyBracket && line.includes("{")) return { reason: "curly-bracket" };
    const words = wordStats(line);
    if (
      words.count < cfg.minWordsPerLine ||
      words.longest > cfg.maxWordLength ||
      lower.includes("javascript") ||
      cfg.policySubstrings.some((s) => lower.includes(s))
    ) {
      removed++;
      continue;
    }
    kept.push(line);
  }
  if (kept.length === 0) return { reason: "no-lines-left" };
  const out = kept.join("\n");
  if (countSentences(out) < cfg.minSentences) return { reason: "too-few-sentences" };
  return { text: out, linesRemoved: removed };
}
