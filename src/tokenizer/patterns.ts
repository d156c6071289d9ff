/**
 * The built-in split patterns (as tiktoken defines them), and the pre-tokenizer for any pattern:
 * the hand-written scanner for a built-in one, the translated regex otherwise.
 */
import { translatePattern } from "./regex.js";
import { type ChunkSink, type Scanner, scanCl100k, scanO200k, scanR50k } from "./scanners.js";

/** GPT-2's pattern (r50k_base, also p50k). */
export const R50K_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
/** GPT-4's pattern (cl100k_base). */
export const CL100K_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** GPT-4o's pattern (o200k_base). */
export const O200K_PATTERN = [
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  "\\p{N}{1,3}",
  " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*",
  "\\s*[\\r\\n]+",
  "\\s+(?!\\S)",
  "\\s+",
].join("|");

/** Names accepted wherever a pattern is asked for. */
export const BUILTIN_PATTERNS: Record<string, string> = {
  gpt2: R50K_PATTERN,
  r50k_base: R50K_PATTERN,
  gpt4: CL100K_PATTERN,
  cl100k_base: CL100K_PATTERN,
  gpt4o: O200K_PATTERN,
  o200k_base: O200K_PATTERN,
};

const SCANNERS = new Map<string, Scanner>([
  [R50K_PATTERN, scanR50k],
  [CL100K_PATTERN, scanCl100k],
  [O200K_PATTERN, scanO200k],
]);

/** A pattern given by name (`gpt4`, `cl100k_base`, …) or as regex source. */
export function resolvePattern(nameOrPattern: string): string {
  return BUILTIN_PATTERNS[nameOrPattern] ?? nameOrPattern;
}

/** A scanner over the translated regex (used for custom patterns, and as the reference in tests). */
export function regexScanner(pattern: string): Scanner {
  const re = translatePattern(pattern);
  return (text: string, emit: ChunkSink) => {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) {
      if (m[0].length === 0) continue; // an empty match (possible only in custom patterns)
      emit(m.index, m.index + m[0].length);
    }
  };
}

/** The fastest exact pre-tokenizer for `pattern`: hand-written if built in, else the regex. */
export function scannerFor(pattern: string): Scanner {
  return SCANNERS.get(pattern) ?? regexScanner(pattern);
}

/** The chunks of `text` as strings (handy for tests and `show`). */
export function splitText(text: string, scanner: Scanner): string[] {
  const out: string[] = [];
  scanner(text, (s, e) => out.push(text.slice(s, e)));
  return out;
}
