/**
 * What the task files share: stable hashing for splits, seeded sampling, surface variation of
 * prompts (prefixes, casing, "u" for "you", punctuation), answer normalisation for alias
 * matching, a repetition-loop check for replies, and final answers in replies that call tools.
 */
import { CHAT_TOKENS, type Conversation, type Message } from "../chat/conversation.js";
import { Rng } from "../tensor/rng.js";
import type { Split } from "./task.js";

export const SPLITS: readonly Split[] = ["train", "val", "test"];

/** FNV-1a over the UTF-16 code units: a stable 32-bit hash (same on every machine). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche, so keys differing in their last characters spread over all buckets
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * The split a key belongs to, from its hash alone (independent of the seed, so a test entity or
 * word stays a test one across runs): `test` and `val` fractions of the hash space, the rest train.
 */
export function splitOfKey(key: string, salt: string, val = 0.1, test = 0.1): Split {
  const u = hash32(`${salt}\u0000${key}`) / 4294967296;
  if (u < test) return "test";
  if (u < test + val) return "val";
  return "train";
}

/**
 * Splits a topic's templates: ordered by hash, the first goes to test, the second to val and the
 * rest to train (a topic needs three or more), so every topic is asked in every split and the
 * test phrasings are never trained on.
 */
export function splitTemplates<T extends { id: string }>(
  templates: readonly T[],
): Record<Split, T[]> {
  const sorted = [...templates].sort((a, b) => hash32(a.id) - hash32(b.id) || cmp(a.id, b.id));
  return { test: sorted.slice(0, 1), val: sorted.slice(1, 2), train: sorted.slice(2) };
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A generator for one (seed, task, split, purpose): independent streams, reproducible. */
export function rngFor(seed: number, ...parts: string[]): Rng {
  return new Rng(hash32(`${seed >>> 0}:${parts.join(":")}`));
}

export function pick<T>(items: readonly T[], rng: Rng): T {
  if (items.length === 0) throw new Error("pick from an empty list");
  return items[rng.int(items.length)]!;
}

/** Fisher–Yates, in place; returns the array. */
export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

/** A user/assistant alternation, user first: [q1, a1, q2, a2, …]. */
export function dialogue(...turns: string[]): Conversation {
  const messages: Message[] = turns.map((content, i) => ({
    role: i % 2 === 0 ? "user" : "assistant",
    content,
  }));
  return { messages };
}

// ---------------------------------------------------------------------------------------------
// Surface variation of prompts

export interface Surface {
  prefix: string;
  /** Write "u"/"ur" for "you"/"your". */
  u: boolean;
  casing: "sentence" | "lower" | "upper";
  end: string;
}

/**
 * Fills `{you}`/`{your}` and the named slots, then applies the surface: `text` is lower case
 * without final punctuation ("what is {your} name").
 */
export function renderPrompt(
  text: string,
  surface: Surface,
  slots: Record<string, string> = {},
): string {
  let s = text
    .replace(/\{you\}/g, surface.u ? "u" : "you")
    .replace(/\{your\}/g, surface.u ? "ur" : "your")
    .replace(/\{(\w+)\}/g, (m, name: string) => slots[name] ?? m);
  s = surface.prefix + s;
  if (surface.casing === "sentence") {
    s = s.replace(/\bi\b/g, "I");
    s = s.charAt(0).toUpperCase() + s.slice(1);
    s = s.replace(/([!?.] )(\p{Ll})/gu, (_, sep: string, c: string) => sep + c.toUpperCase());
  } else if (surface.casing === "upper") {
    s = s.toUpperCase();
  }
  return s + surface.end;
}

/** Draws a surface: mostly plain (sentence case, "you", the usual ending), sometimes casual. */
export function drawSurface(
  rng: Rng,
  prefixes: readonly string[],
  ends: readonly string[],
): Surface {
  const prefix = rng.uniform() < 0.5 ? "" : pick(prefixes, rng);
  const u = rng.uniform() < 0.2;
  const c = rng.uniform();
  const casing = c < 0.65 ? "sentence" : c < 0.95 ? "lower" : "upper";
  const end = rng.uniform() < 0.5 ? ends[0]! : pick(ends, rng);
  return { prefix, u, casing, end };
}

/**
 * Up to `k` distinct renderings of one template, drawn (fewer when the template has
 * fewer surface forms than that).
 */
export function distinctRenderings(k: number, render: () => string, maxTries = k * 8): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let t = 0; t < maxTries && out.length < k; t++) {
    const s = render();
    if (seen.has(s)) continue;
    seen.add(s);
    out.push(s);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Normalisation and matching

const ONES: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};

function isNumberWord(w: string): boolean {
  return w in ONES || w in TENS || w === "hundred" || w === "thousand";
}

/**
 * Rewrites runs of English number words as digits ("twenty six" → "26"; "one thousand eight
 * hundred and nine" → "1809"); other words are kept as they are.
 */
export function numberWordsToDigits(words: string[]): string[] {
  const low = words.map((w) => w.toLowerCase());
  const out: string[] = [];
  let i = 0;
  while (i < words.length) {
    if (!isNumberWord(low[i]!) || low[i] === "hundred" || low[i] === "thousand") {
      out.push(words[i]!);
      i++;
      continue;
    }
    let total = 0;
    let current = 0;
    let j = i;
    for (; j < low.length; j++) {
      const w = low[j]!;
      if (w in ONES) current += ONES[w]!;
      else if (w in TENS) current += TENS[w]!;
      else if (w === "hundred") current = (current || 1) * 100;
      else if (w === "thousand") {
        total += (current || 1) * 1000;
        current = 0;
      } else if (
        w === "and" &&
        j > i &&
        (low[j - 1] === "hundred" || low[j - 1] === "thousand") &&
        j + 1 < low.length &&
        (low[j + 1]! in ONES || low[j + 1]! in TENS)
      ) {
        // "one hundred and five"
      } else break;
    }
    out.push(String(total + current));
    i = j;
  }
  return out;
}

const ARTICLES = new Set(["a", "an", "the"]);

/**
 * Words of a text for matching: accents stripped, lower case (unless `keepCase`), punctuation
 * as separators, thousands separators dropped ("1,809" → "1809"), number words as digits,
 * articles dropped.
 */
export function normalizeWords(text: string, keepCase = false): string[] {
  let s = text.normalize("NFD").replace(/\p{M}+/gu, "");
  if (!keepCase) s = s.toLowerCase();
  s = s.replace(/(\d),(?=\d{3}\b)/g, "$1").replace(/['’]/g, "");
  const words = s.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
  return numberWordsToDigits(words).filter((w) => !ARTICLES.has(w.toLowerCase()));
}

/** Normalised text as one string ("The Bahamas!" → "bahamas"). */
export function normalizeText(text: string): string {
  return normalizeWords(text).join(" ");
}

/** Start positions where `needle` occurs in `hay` as a whole-word sequence. */
export function findWordSeq(hay: readonly string[], needle: readonly string[]): number[] {
  const at: number[] = [];
  if (needle.length === 0) return at;
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    at.push(i);
  }
  return at;
}

/** The normalised text contains the normalised phrase as whole words. */
export function containsPhrase(text: string, phrase: string): boolean {
  return findWordSeq(normalizeWords(text), normalizeWords(phrase)).length > 0;
}

/**
 * A reply stuck in a loop: one to four words repeated back to back four or more times
 * ("hello hello hello hello"), or a long reply that is mostly the same few words.
 */
export function isRepetitionLoop(text: string): boolean {
  const w = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((x) => x.length > 0);
  for (let n = 1; n <= 4; n++) {
    for (let i = 0; i + 4 * n <= w.length; i++) {
      let reps = 1;
      while (i + (reps + 1) * n <= w.length) {
        let same = true;
        for (let k = 0; k < n; k++) {
          if (w[i + reps * n + k] !== w[i + k]) {
            same = false;
            break;
          }
        }
        if (!same) break;
        reps++;
      }
      if (reps >= 4) return true;
    }
  }
  if (w.length >= 16 && new Set(w).size / w.length < 0.3) return true;
  return false;
}

/** Levenshtein distance (small strings). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** "a", "a and b", "a, b and c". */
export function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------
// Final answers in replies that may call tools

const TOOL_SPAN_PAIRS: readonly [string, string][] = [
  [CHAT_TOKENS.pythonStart, CHAT_TOKENS.pythonEnd],
  [CHAT_TOKENS.searchStart, CHAT_TOKENS.searchEnd],
  [CHAT_TOKENS.outputStart, CHAT_TOKENS.outputEnd],
];

/**
 * The reply as the reader sees the assistant's own words: every code or search call and every
 * tool output (`<|python_start|>…<|python_end|>`, `<|output_start|>…<|output_end|>`, as text)
 * becomes a space; a span left open runs to the end of the reply.
 */
export function withoutToolSpans(reply: string): string {
  let s = reply;
  for (const [start, end] of TOOL_SPAN_PAIRS) {
    for (let at = s.indexOf(start); at >= 0; at = s.indexOf(start, at)) {
      const close = s.indexOf(end, at + start.length);
      s = `${s.slice(0, at)} ${close < 0 ? "" : s.slice(close + end.length)}`;
    }
  }
  return s;
}

/**
 * Words and numbers of a text, in order, for finding an answer: letters runs and numbers
 * ("1,809" → "1809", "7.5" stays one word), English number words as digits ("seven" → "7");
 * punctuation, quotes, "$" and the like are separators. Case is kept.
 */
export function answerWords(text: string): string[] {
  const words = [...text.normalize("NFC").matchAll(/\d+(?:,\d{3})*(?:\.\d+)?|\p{L}+/gu)].map((m) =>
    m[0].replace(/,/g, ""),
  );
  return numberWordsToDigits(words);
}

/** A word that is a number ("7", "7.0", "1809") → its value; anything else → undefined. */
export function numberOf(word: string | undefined): number | undefined {
  if (word === undefined || !/^\d+(?:\.\d+)?$/.test(word)) return undefined;
  return Number(word);
}

const AFTER_ANSWER = new Set(["is", "was", "would", "be", "equals", "the", "letter", "number"]);

/**
 * The word stated in the last final-answer form of `words` ("The answer is 7.", "answer: r",
 * "the answer would be the letter r"): the first word after the last "answer" that is not one
 * of is/was/would/be/equals/the/letter/number. Undefined when there is no such form.
 */
export function finalAnswerWord(words: readonly string[]): string | undefined {
  for (let i = words.length - 1; i >= 0; i--) {
    if (words[i]!.toLowerCase() !== "answer") continue;
    let j = i + 1;
    while (j < words.length && j <= i + 4 && AFTER_ANSWER.has(words[j]!.toLowerCase())) j++;
    if (j < words.length && j <= i + 4) return words[j];
  }
  return undefined;
}

/** A number read from a reply, and how it was found. */
export interface NumberAnswer {
  value: number | undefined;
  /** "final": from the final-answer form; "first"/"last": the first/last number; "none": no number. */
  how: "final" | "first" | "last" | "none";
}

/**
 * The number a reply answers with, ignoring tool calls and their outputs. `first`: the first
 * number the reply states (answer-first replies: working before the number makes it wrong).
 * `final`: the number of the last final-answer form ("The answer is 7."), else the last number.
 * Number words count ("seven"), thousands separators are dropped, "$" and units are ignored.
 */
export function readNumberAnswer(reply: string, where: "first" | "final"): NumberAnswer {
  const words = answerWords(withoutToolSpans(reply));
  if (where === "final") {
    const final = numberOf(finalAnswerWord(words));
    if (final !== undefined) return { value: final, how: "final" };
  }
  const numbers = words.map(numberOf).filter((n): n is number => n !== undefined);
  if (numbers.length === 0) return { value: undefined, how: "none" };
  return where === "first"
    ? { value: numbers[0], how: "first" }
    : { value: numbers[numbers.length - 1], how: "last" };
}

/**
 * A bounded sample that keeps every group: the groups (sorted by key) are shuffled, then taken
 * from in turn, one item each, until `limit` items (in that round-robin order).
 */
export function stratifiedSample<T>(
  all: readonly T[],
  limit: number,
  groupOf: (item: T) => string,
  rng: Rng,
): T[] {
  if (all.length <= limit) return [...all];
  const groups = new Map<string, T[]>();
  for (const it of all) {
    const g = groupOf(it);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(it);
  }
  const lists = [...groups.keys()].sort(cmp).map((k) => shuffle(groups.get(k)!, rng));
  const out: T[] = [];
  for (let round = 0; out.length < limit; round++) {
    let any = false;
    for (const list of lists) {
      if (round < list.length && out.length < limit) {
        out.push(list[round]!);
        any = true;
      }
    }
    if (!any) break;
  }
  return out;
}
