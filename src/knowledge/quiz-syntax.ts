/**
 * The answer syntax of bsdgames' quiz(6) files: `{x}` is optional, `a|b` are alternatives,
 * `[a|b]` a group of alternatives, and an accent is spelled next to its letter inside a group
 * (`Bogot['a|a'|a]`). `expandQuiz` lists every spelling, the canonical one first: optional
 * parts included, the first alternative taken, accents as Unicode letters ("Bogotá").
 */

const MARKS: Record<string, string> = {
  "'": "\u0301",
  "`": "\u0300",
  "~": "\u0303",
  "^": "\u0302",
  ",": "\u0327",
  '"': "\u0308",
  ":": "\u0308",
  "°": "\u030a",
};

/** A group like ['e|e'|e] is one accented letter: returns it with the plain letter, or null. */
function accentGroup(alts: string[]): string[] | null {
  const plain = alts.find((a) => /^\p{L}$/u.test(a));
  if (!plain || alts.length < 2) return null;
  let mark: string | undefined;
  for (const a of alts) {
    if (a === plain) continue;
    if (a.length !== 2) return null;
    const m = a[0] === plain ? a[1]! : a[1] === plain ? a[0]! : undefined;
    if (m === undefined || !MARKS[m]) return null;
    mark = MARKS[m];
  }
  return mark ? [`${plain}${mark}`.normalize("NFC"), plain] : null;
}

const LIMIT = 64;

function cross(a: string[], b: string[]): string[] {
  const out: string[] = [];
  for (const x of a) for (const y of b) if (out.length < LIMIT) out.push(x + y);
  return out;
}

/** Parses alternatives until `stop` (or the end); returns the variants and the next index. */
function parseAlts(s: string, i: number, stop: string | null): [string[], number] {
  const alts: string[][] = [];
  let cur: string[] = [""];
  while (i < s.length) {
    const ch = s[i]!;
    if (ch === stop) {
      i++;
      break;
    }
    if (ch === "|") {
      alts.push(cur);
      cur = [""];
      i++;
    } else if (ch === "{") {
      const [inner, j] = parseAlts(s, i + 1, "}");
      cur = cross(cur, [...inner, ""]);
      i = j;
    } else if (ch === "[") {
      const [inner, j] = parseAlts(s, i + 1, "]");
      cur = cross(cur, accentGroup(inner) ?? inner);
      i = j;
    } else if (ch === "\\" && i + 1 < s.length) {
      cur = cur.map((x) => x + s[i + 1]);
      i += 2;
    } else {
      cur = cur.map((x) => x + ch);
      i++;
    }
  }
  alts.push(cur);
  return [alts.flat(), i];
}

/** Every spelling of a quiz answer, canonical first, without duplicates or empties. */
export function expandQuiz(pattern: string): string[] {
  // overstruck accents ("°\bA", as the files spell some) are the same as adjacent ones
  const [all] = parseAlts(pattern.replace(/\x08/g, ""), 0, null);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of all) {
    const c = v.replace(/\s+/g, " ").trim();
    if (c && !seen.has(c)) {
      seen.add(c);
      out.push(c);
    }
  }
  return out;
}

/** Splits a quiz line into its fields at ':' outside {} and []. */
export function splitQuizFields(line: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "\\" && i + 1 < line.length) {
      cur += ch + line[i + 1];
      i++;
      continue;
    }
    if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
    if (ch === ":" && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** The lines of a quiz file with `\`-continued lines joined. */
export function quizLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, "")
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "");
}
