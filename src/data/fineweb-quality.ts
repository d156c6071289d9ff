/**
 * FineWeb's own quality filters (Penedo et al., 2024): the share of lines ending in terminal
 * punctuation, the share of short lines, the characters in duplicated lines, and the ratio
 * of newlines to words (lists).
 */
import { findDuplicates, wordStats } from "./text-stats.js";

export interface FineWebQualityConfig {
  enabled: boolean;
  minLinePunctRatio: number;
  maxShortLineRatio: number;
  shortLineLength: number;
  maxDupLineCharRatio: number;
  maxNewlineWordRatio: number;
}

export const DEFAULT_FINEWEB_QUALITY: FineWebQualityConfig = {
  enabled: true,
  minLinePunctRatio: 0.12,
  maxShortLineRatio: 0.67,
  shortLineLength: 30,
  maxDupLineCharRatio: 0.01,
  maxNewlineWordRatio: 0.3,
};

const TERMINAL = [".", "?", "!", '"', "'", "”", "’", "。", "！", "？"];

/** The reason to drop `text`, or null. */
export function fineWebQuality(text: string, cfg: FineWebQualityConfig): string | null {
  const lines = text.split("\n").filter((l) => l.trim().length > 0);
  if (lines.length === 0) return "empty";
  let punct = 0;
  let short = 0;
  for (const l of lines) {
    const t = l.trimEnd();
    if (TERMINAL.some((p) => t.endsWith(p))) punct++;
    if (t.length <= cfg.shortLineLength) short++;
  }
  if (punct / lines.length < cfg.minLinePunctRatio) return "line-punct-ratio";
  if (short / lines.length > cfg.maxShortLineRatio) return "short-line-ratio";
  const chars = text.length - (text.match(/\n/g)?.length ?? 0);
  if (findDuplicates(lines).chars / Math.max(1, chars) > cfg.maxDupLineCharRatio)
    return "dup-line-chars";
  const words = wordStats(text).count;
  if ((text.match(/\n/g)?.length ?? 0) / Math.max(1, words) > cfg.maxNewlineWordRatio)
    return "list-ratio";
  return null;
}
