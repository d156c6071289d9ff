/**
 * Language identification. FineWeb uses fastText's lid.176 and keeps English with score
 * > 0.65. We use a maintained pure-JS detector instead: eld (n-gram, 60 languages), chosen
 * over franc by `chatforge data langid-eval` (accuracy per language on held-out text; see
 * docs/benchmarks.md): it is both more accurate on documents and ~8× faster. Its score is
 * eld's top normalised n-gram score (0–1, not a probability), so its threshold differs from
 * fastText's.
 */
export type DetectorName = "eld" | "eld-small" | "franc";

interface EldLike {
  detect(text: string): { language: string; getScores(): Record<string, number> };
}
type FrancFn = (text: string, opts?: { minLength?: number }) => string;

// Detectors are loaded on first use: eld's large n-gram table takes about a second to load,
// and worker threads of phases that do not detect languages should not pay for it.
const eldDbs = new Map<string, EldLike>();
let francFn: FrancFn | null = null;

/** Loads a detector's data (call once before `detectLanguage`). */
export async function loadDetector(name: DetectorName): Promise<void> {
  if (name === "franc") {
    francFn ??= (await import("franc")).franc as FrancFn;
  } else if (!eldDbs.has(name)) {
    const mod = name === "eld-small" ? await import("eld/small") : await import("eld/large");
    eldDbs.set(name, mod.eld as EldLike);
  }
}

export interface LangConfig {
  enabled: boolean;
  detector: DetectorName;
  /** ISO 639-1 codes to keep (empty: keep every language, only annotate). */
  keep: string[];
  /** Minimum score of the top language. */
  minScore: number;
  /**
   * Characters of the document passed to the detector. eld itself reads only about the first
   * 350 bytes, so 500 characters cover it for every script while saving its cleanup work.
   */
  sampleChars: number;
}

export const DEFAULT_LANG: LangConfig = {
  enabled: true,
  detector: "eld",
  keep: ["en"],
  minScore: 0.5,
  sampleChars: 500,
};

export interface LangResult {
  language: string;
  score: number;
}

/** franc answers ISO 639-3; the codes of the languages we evaluate and keep, mapped to 639-1. */
const ISO3_TO_1: Record<string, string> = {
  eng: "en",
  deu: "de",
  fra: "fr",
  spa: "es",
  ita: "it",
  jpn: "ja",
  cmn: "zh",
  rus: "ru",
  por: "pt",
  nld: "nl",
  pol: "pl",
  swe: "sv",
  dan: "da",
  nob: "no",
  fin: "fi",
  ces: "cs",
  tur: "tr",
  ukr: "uk",
  kor: "ko",
  arb: "ar",
  hin: "hi",
  sco: "en",
};

/** Detects the language of `text` with the named detector. */
export function detectLanguage(
  text: string,
  detector: DetectorName = "eld",
  sampleChars = 500,
): LangResult {
  const sample = text.length > sampleChars ? text.slice(0, sampleChars) : text;
  if (detector === "franc") {
    if (!francFn) throw new Error("call loadDetector('franc') first");
    const code = francFn(sample, { minLength: 10 });
    // franc gives a ranking, not a confidence: report 1 for a decision, 0 for "und"
    return code === "und"
      ? { language: "", score: 0 }
      : { language: ISO3_TO_1[code] ?? code, score: 1 };
  }
  const eld = eldDbs.get(detector);
  if (!eld) throw new Error(`call loadDetector('${detector}') first`);
  const r = eld.detect(sample);
  if (!r.language) return { language: "", score: 0 };
  const score = r.getScores()[r.language] ?? 0;
  return { language: r.language, score };
}

/** The reason to drop a document of this language, or null to keep it. */
export function languageVerdict(res: LangResult, cfg: LangConfig): string | null {
  if (!res.language) return "language-unknown";
  if (cfg.keep.length > 0 && !cfg.keep.includes(res.language)) return `language-${res.language}`;
  if (res.score < cfg.minScore) return "language-low-score";
  return null;
}
