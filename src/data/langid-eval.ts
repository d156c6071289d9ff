/**
 * Language-ID accuracy on held-out multilingual text that ships with Debian:
 * the Debian Reference in 7 languages (HTML chapters; `debian-reference-{en,de,fr,es,it,ja,zh-cn}`)
 * and the German, Spanish and Russian fortune files (`fortunes-{de,es,ru}`). Samples are
 * chunks of about `chunkChars` characters of extracted text (fortunes: one fortune each);
 * every detector sees the same samples; accuracy and speed are reported per language.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { extractFast } from "./extract.js";
import { type DetectorName, detectLanguage, loadDetector } from "./lang.js";

export const DEBIAN_REFERENCE_DIR = "/usr/share/debian-reference";
export const FORTUNES_DIR = "/usr/share/games/fortunes";

/** Debian Reference file suffix → ISO 639-1. */
const REFERENCE_LANGS: Record<string, string> = {
  en: "en",
  de: "de",
  fr: "fr",
  es: "es",
  it: "it",
  ja: "ja",
  "zh-cn": "zh",
};
const FORTUNE_LANGS = ["de", "es", "ru"];

export interface LangSample {
  /** Expected ISO 639-1 code. */
  lang: string;
  /** Where it came from: "debian-reference" or "fortunes". */
  corpus: string;
  text: string;
}

/** Joins lines into chunks of at least `chunkChars` characters. */
function chunks(text: string, chunkChars: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const line of text.split("\n")) {
    const l = line.trim();
    if (!l) continue;
    cur = cur ? `${cur}\n${l}` : l;
    if (cur.length >= chunkChars) {
      out.push(cur);
      cur = "";
    }
  }
  return out;
}

/** Takes `n` items spread evenly over the list (deterministic). */
function spread<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(xs[Math.floor((i * xs.length) / n)] as T);
  return out;
}

/** The evaluation samples found on this machine (empty lists for missing packages). */
export function langSamples(
  perLang = 200,
  chunkChars = 400,
): { samples: LangSample[]; missing: string[] } {
  const samples: LangSample[] = [];
  const missing: string[] = [];
  for (const [suffix, lang] of Object.entries(REFERENCE_LANGS)) {
    const files = existsSync(DEBIAN_REFERENCE_DIR)
      ? readdirSync(DEBIAN_REFERENCE_DIR)
          .filter((f) => f.endsWith(`.${suffix}.html`))
          .sort()
      : [];
    if (files.length === 0) {
      missing.push(`debian-reference-${suffix}`);
      continue;
    }
    const all: string[] = [];
    for (const f of files)
      all.push(
        ...chunks(extractFast(readFileSync(join(DEBIAN_REFERENCE_DIR, f), "utf8")), chunkChars),
      );
    for (const text of spread(all, perLang))
      samples.push({ lang, corpus: "debian-reference", text });
  }
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  for (const lang of FORTUNE_LANGS) {
    const dir = join(FORTUNES_DIR, lang);
    if (!existsSync(dir)) {
      missing.push(`fortunes-${lang}`);
      continue;
    }
    const all: string[] = [];
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith(".dat") || f.endsWith(".u8")) continue;
      let text: string;
      try {
        text = utf8.decode(readFileSync(join(dir, f)));
      } catch {
        continue; // a few old fortune files are not UTF-8
      }
      for (const fortune of text.split(/\n%\n/)) {
        const t = fortune.trim();
        if (t.length >= 80) all.push(t);
      }
    }
    for (const text of spread(all, perLang)) samples.push({ lang, corpus: "fortunes", text });
  }
  return { samples, missing };
}

export interface LangAccuracy {
  detector: DetectorName;
  corpus: string;
  lang: string;
  samples: number;
  correct: number;
  accuracy: number;
  /** Most frequent wrong answers. */
  confusions: Record<string, number>;
}

export interface LangEvalResult {
  rows: LangAccuracy[];
  /** Per detector: overall accuracy (macro average over corpus×language) and µs per sample. */
  summary: { detector: DetectorName; macroAccuracy: number; usPerSample: number; loadMs: number }[];
  missing: string[];
}

/** Runs every detector over the samples. */
export async function evaluateLanguageId(
  detectors: DetectorName[] = ["eld", "eld-small", "franc"],
  perLang = 200,
): Promise<LangEvalResult> {
  const { samples, missing } = langSamples(perLang);
  const rows: LangAccuracy[] = [];
  const summary: LangEvalResult["summary"] = [];
  for (const det of detectors) {
    const t0 = performance.now();
    await loadDetector(det);
    const loadMs = performance.now() - t0;
    const by = new Map<string, LangAccuracy>();
    const t1 = performance.now();
    for (const s of samples) {
      const key = `${s.corpus}/${s.lang}`;
      let row = by.get(key);
      if (!row) {
        row = {
          detector: det,
          corpus: s.corpus,
          lang: s.lang,
          samples: 0,
          correct: 0,
          accuracy: 0,
          confusions: {},
        };
        by.set(key, row);
      }
      const got = detectLanguage(s.text, det).language || "none";
      row.samples++;
      if (got === s.lang) row.correct++;
      else row.confusions[got] = (row.confusions[got] ?? 0) + 1;
    }
    const us = ((performance.now() - t1) * 1000) / Math.max(1, samples.length);
    const list = [...by.values()];
    for (const r of list) r.accuracy = r.correct / r.samples;
    rows.push(...list);
    const macro = list.reduce((a, r) => a + r.accuracy, 0) / Math.max(1, list.length);
    summary.push({ detector: det, macroAccuracy: macro, usPerSample: us, loadMs });
  }
  return { rows, summary, missing };
}

/** The result as a table: one row per corpus/language, one column per detector. */
export function formatLangEval(r: LangEvalResult): string {
  const dets = r.summary.map((s) => s.detector);
  const keys = [...new Set(r.rows.map((x) => `${x.corpus}/${x.lang}`))];
  const lines = [
    `${"corpus/language".padEnd(24)} ${"n".padStart(4)} ${dets.map((d) => d.padStart(10)).join(" ")}`,
  ];
  for (const k of keys) {
    const cells = dets.map((d) => {
      const row = r.rows.find((x) => x.detector === d && `${x.corpus}/${x.lang}` === k);
      return row ? `${(100 * row.accuracy).toFixed(1)}%`.padStart(10) : "-".padStart(10);
    });
    const n = r.rows.find((x) => `${x.corpus}/${x.lang}` === k)?.samples ?? 0;
    lines.push(`${k.padEnd(24)} ${String(n).padStart(4)} ${cells.join(" ")}`);
  }
  lines.push(
    `${"macro average".padEnd(24)} ${"".padStart(4)} ${r.summary.map((s) => `${(100 * s.macroAccuracy).toFixed(1)}%`.padStart(10)).join(" ")}`,
    `${"µs per sample".padEnd(24)} ${"".padStart(4)} ${r.summary.map((s) => s.usPerSample.toFixed(0).padStart(10)).join(" ")}`,
    `${"load time (ms)".padEnd(24)} ${"".padStart(4)} ${r.summary.map((s) => s.loadMs.toFixed(0).padStart(10)).join(" ")}`,
  );
  if (r.missing.length > 0) lines.push(`missing (apt-get install): ${r.missing.join(" ")}`);
  return lines.join("\n");
}
