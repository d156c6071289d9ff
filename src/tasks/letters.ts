/**
 * Task "letters" — labelling instructions.
 *
 * The user asks about the letters of one common English word (3 to 10 letters, lower case):
 * how many times a letter occurs in it ("How many r's are in strawberry?"), its n-th letter,
 * its last letter, or how many letters it has. The user message may say how to answer:
 * - "just give the number/letter" and the like → the reply is the answer alone: "3", "r".
 * - "spell it out first", "think step by step" and the like → the letters written out one by
 *   one, separated by ", ", with a running count in brackets after each letter that counts
 *   ("s, t, r (1), a, w, b, e, r (2), r (3), y." — for the n-th letter the count of every
 *   letter, stopping at the n-th; for the last letter no count), then "The answer is 3."
 * - "use code" and the like → one short lead-in, one code call (`"garden"[2]`,
 *   `"strawberry".split("").filter(c => c === "r").length`, `"garden".slice(-1)`,
 *   `"garden".length`) with its output, then "The answer is r."
 * - no instruction → as "use code": the reliable way.
 * Letters in the answer are lower case; a letter that does not occur is counted 0.
 *
 * Splits are by word with the spelling task's split (`wordSplit`), so a test word was never
 * asked about, nor spelled, in training. Templates and instructions are shared by all splits.
 */
import { CHAT_TOKENS } from "../chat/conversation.js";
import type { Rng } from "../tensor/rng.js";
import { UserError } from "../util/errors.js";
import { codeCall, finalAnswerLine } from "./arithmetic.js";
import {
  answerWords,
  finalAnswerWord,
  pick,
  readNumberAnswer,
  rngFor,
  SPLITS,
  withoutToolSpans,
} from "./common.js";
import { commonWords, wordSplit } from "./spelling.js";
import type { Score, Split, Task, TaskContext, TaskExample } from "./task.js";

export const LETTER_KINDS = ["count", "nth", "last", "length"] as const;
export type LetterKind = (typeof LETTER_KINDS)[number];

export const LETTER_STYLES = ["direct", "steps", "code", "none"] as const;
export type LetterStyle = (typeof LETTER_STYLES)[number];
export type LetterForm = Exclude<LetterStyle, "none">;

export function letterForm(style: LetterStyle): LetterForm {
  return style === "none" ? "code" : style;
}

/** Whether a kind's answer is a number or a letter. */
export function answerKindOf(kind: LetterKind): "number" | "letter" {
  return kind === "count" || kind === "length" ? "number" : "letter";
}

/** `{word}` is the word (maybe quoted), `{l}` the letter, `{ord}` an ordinal ("3rd", "third"). */
export const LETTER_QUESTIONS: Record<LetterKind, readonly string[]> = {
  count: [
    "How many {l}'s are in {word}?",
    "How many times does the letter {l} appear in {word}?",
    "Count the {l}'s in {word}.",
    "How many {l}'s does {word} have?",
    "In the word {word}, how many {l}'s are there?",
    "How many letter {l}'s are in the word {word}?",
  ],
  nth: [
    "What is the {ord} letter of {word}?",
    "What's the {ord} letter in the word {word}?",
    "Which letter is {ord} in {word}?",
    "Tell me the {ord} letter of {word}.",
  ],
  last: [
    "What is the last letter of {word}?",
    "Which letter does {word} end with?",
    "What letter is at the end of {word}?",
    "Tell me the last letter of the word {word}.",
  ],
  length: [
    "How many letters are in {word}?",
    "How many letters does {word} have?",
    "How long is the word {word}, in letters?",
    "Count the letters in {word}.",
  ],
};

export const LETTER_INSTRUCTIONS: Record<
  "number" | "letter" | "steps" | "code",
  readonly string[]
> = {
  number: [
    "Just give the number.",
    "Reply with only the number.",
    "Answer with just the number.",
    "No explanation, just the answer.",
    "Only the answer, please.",
  ],
  letter: [
    "Just give the letter.",
    "Reply with only the letter.",
    "Answer with just the letter.",
    "No explanation, just the answer.",
    "Only the answer, please.",
  ],
  steps: [
    "Spell it out first.",
    "Go letter by letter.",
    "Think step by step.",
    "Spell the word before answering.",
    "Work through it letter by letter.",
  ],
  code: [
    "Use code.",
    "Use the code tool.",
    "Check it with code.",
    "Work it out with code.",
    "Use JavaScript.",
  ],
};

/** The style mix of the train split (shares); kinds are drawn uniformly. */
export const LETTERS_TRAIN_MIX: Readonly<Record<LetterStyle, number>> = {
  direct: 0.25,
  steps: 0.25,
  code: 0.3,
  none: 0.2,
};

// ---------------------------------------------------------------------------------------------
// Questions and replies

/** One question: the word, what is asked, and the answer ("3" or "r"). */
export interface LetterQuestion {
  kind: LetterKind;
  word: string;
  /** The letter counted (count). */
  letter?: string;
  /** 1-based position (nth). */
  n?: number;
  answer: string;
}

const ORDINAL_WORDS = [
  "first",
  "second",
  "third",
  "fourth",
  "fifth",
  "sixth",
  "seventh",
  "eighth",
  "ninth",
  "tenth",
];

/** 1 → "1st", 2 → "2nd", 11 → "11th". */
export function ordinal(n: number): string {
  const t = n % 100;
  if (t >= 11 && t <= 13) return `${n}th`;
  return `${n}${["th", "st", "nd", "rd"][n % 10] ?? "th"}`;
}

function countOf(word: string, letter: string): number {
  return [...word].filter((c) => c === letter).length;
}

export function letterAnswer(kind: LetterKind, word: string, letter = "", n = 1): string {
  if (kind === "count") return String(countOf(word, letter));
  if (kind === "nth") return word[n - 1] ?? "";
  if (kind === "last") return word[word.length - 1]!;
  return String(word.length);
}

/** The code a reply calls for a question (JavaScript, its value is the answer). */
export function letterCode(q: LetterQuestion): string {
  const w = JSON.stringify(q.word);
  if (q.kind === "count")
    return `${w}.split("").filter(c => c === ${JSON.stringify(q.letter)}).length`;
  if (q.kind === "nth") return `${w}[${q.n! - 1}]`;
  if (q.kind === "last") return `${w}.slice(-1)`;
  return `${w}.length`;
}

/** The letters written out with a running count ("s, t, r (1), a, …"). */
function spelledOut(q: LetterQuestion): string {
  const letters = [...q.word];
  if (q.kind === "count") {
    let seen = 0;
    const shown = letters.map((c) => (c === q.letter ? `${c} (${++seen})` : c)).join(", ");
    return seen === 0 ? `${shown}. No ${q.letter}.` : `${shown}.`;
  }
  if (q.kind === "last") return `${letters.join(", ")}.`;
  const upTo = q.kind === "nth" ? q.n! : letters.length;
  return `${letters
    .slice(0, upTo)
    .map((c, i) => `${c} (${i + 1})`)
    .join(", ")}.`;
}

function codeLeadIn(q: LetterQuestion): string {
  const w = JSON.stringify(q.word);
  if (q.kind === "count") return `Counting the ${q.letter}'s in ${w}:`;
  if (q.kind === "nth") return `The ${ordinal(q.n!)} letter is at index ${q.n! - 1}:`;
  if (q.kind === "last") return `The last letter of ${w}:`;
  return `Counting the letters of ${w}:`;
}

/** The reference reply to a question in a form. */
export function lettersReply(q: LetterQuestion, form: LetterForm): string {
  if (form === "direct") return q.answer;
  if (form === "steps") return `${spelledOut(q)}\n${finalAnswerLine(q.answer)}`;
  return `${codeLeadIn(q)} ${codeCall(letterCode(q), q.answer)}\n${finalAnswerLine(q.answer)}`;
}

// ---------------------------------------------------------------------------------------------
// Cells of the "tokens to think" table

export interface LettersCell {
  style: LetterStyle;
  kind: LetterKind;
  /** "code/count". */
  key: string;
}

function cell(style: LetterStyle, kind: LetterKind): LettersCell {
  return { style, kind, key: `${style}/${kind}` };
}

/** Every style × kind cell, in table order (each holds `testPerCell` test examples). */
export function lettersCells(): LettersCell[] {
  return LETTER_STYLES.flatMap((style) => LETTER_KINDS.map((kind) => cell(style, kind)));
}

export function lettersCellOf(example: TaskExample): LettersCell {
  return cell(example.meta.style as LetterStyle, example.meta.kind as LetterKind);
}

// ---------------------------------------------------------------------------------------------
// Generation

export interface LettersOptions {
  /** The most frequent words considered (as the spelling task). */
  vocabulary?: number;
  /** Train examples (mixed styles and kinds). */
  train?: number;
  /** Val and test examples per style × kind cell. */
  valPerCell?: number;
  testPerCell?: number;
}

const DEFAULTS = { vocabulary: 6000, train: 3000, valPerCell: 5, testPerCell: 30 };
const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

function drawQuestion(kind: LetterKind, word: string, rng: Rng): LetterQuestion {
  if (kind === "count") {
    const letters = [...new Set(word)];
    const u = rng.uniform();
    let letter: string;
    if (u < 0.5) {
      // the most frequent letter: the interesting case ("r" in strawberry)
      letter = letters.reduce((best, c) => (countOf(word, c) > countOf(word, best) ? c : best));
    } else if (u < 0.8) {
      letter = pick(letters, rng);
    } else {
      letter = pick(
        [...ALPHABET].filter((c) => !word.includes(c)),
        rng,
      );
    }
    return { kind, word, letter, answer: letterAnswer(kind, word, letter) };
  }
  if (kind === "nth") {
    const n = 1 + rng.int(word.length);
    return { kind, word, n, answer: letterAnswer(kind, word, "", n) };
  }
  return { kind, word, answer: letterAnswer(kind, word) };
}

function question(q: LetterQuestion, rng: Rng): { text: string; template: string } {
  const template = pick(LETTER_QUESTIONS[q.kind], rng);
  const quote = rng.uniform();
  const word = quote < 0.6 ? q.word : quote < 0.8 ? `'${q.word}'` : `"${q.word}"`;
  const ord =
    q.n !== undefined && q.n <= ORDINAL_WORDS.length && rng.uniform() < 0.3
      ? ORDINAL_WORDS[q.n - 1]!
      : ordinal(q.n ?? 1);
  const text = template
    .replace("{word}", word)
    .replace("{l}", q.letter ?? "")
    .replace("{ord}", ord);
  return { text, template };
}

function userMessage(text: string, style: LetterStyle, kind: LetterKind, rng: Rng): string {
  if (style === "none") return text;
  const list =
    style === "direct" ? LETTER_INSTRUCTIONS[answerKindOf(kind)] : LETTER_INSTRUCTIONS[style];
  const instruction = pick(list, rng);
  return rng.uniform() < 0.3 ? `${instruction} ${text}` : `${text} ${instruction}`;
}

function drawStyle(rng: Rng): LetterStyle {
  let u = rng.uniform();
  for (const s of LETTER_STYLES) {
    u -= LETTERS_TRAIN_MIX[s];
    if (u < 0) return s;
  }
  return "none";
}

function generate(split: Split, ctx: TaskContext, o: typeof DEFAULTS): TaskExample[] {
  const words = commonWords()
    .slice(0, o.vocabulary)
    .filter((w) => wordSplit(w) === split);
  const rng = rngFor(ctx.seed, "letters", split);
  const seen = new Set<string>();
  const out: TaskExample[] = [];
  const add = (c: LettersCell) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const q = drawQuestion(c.kind, pick(words, rng), rng);
      const { text, template } = question(q, rng);
      const user = userMessage(text, c.style, c.kind, rng);
      if (seen.has(user)) continue;
      seen.add(user);
      const form = letterForm(c.style);
      out.push({
        id: `letters/${split}/${out.length}`,
        conversation: {
          messages: [
            { role: "user", content: user },
            { role: "assistant", content: lettersReply(q, form) },
          ],
        },
        meta: {
          style: c.style,
          form,
          kind: c.kind,
          word: q.word,
          letter: q.letter,
          n: q.n,
          answer: q.answer,
          template,
          cell: c.key,
        },
      });
      return;
    }
    throw new Error(`letters: no new question for ${c.key}`);
  };
  if (split === "train") {
    for (let i = 0; i < o.train; i++) add(cell(drawStyle(rng), pick(LETTER_KINDS, rng)));
  } else {
    const perCell = split === "test" ? o.testPerCell : o.valPerCell;
    for (const c of lettersCells()) for (let i = 0; i < perCell; i++) add(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scoring

/** A letter read from a reply, and how it was found. */
export interface LetterAnswer {
  value: string | undefined;
  how: "final" | "alone" | "quoted" | "is" | "none";
}

/**
 * The letter a reply answers with, ignoring tool calls and their outputs, lower-cased: the
 * final-answer form ("The answer is r."), else a reply that is one letter ("R", "'r'."), else
 * a quoted letter ("the 3rd letter is 'r'"), else the last letter after "is"/"it's"
 * ("the last letter is n").
 */
export function readLetterAnswer(reply: string): LetterAnswer {
  const text = withoutToolSpans(reply);
  const isLetter = (w: string | undefined) => w !== undefined && /^\p{L}$/u.test(w);
  const final = finalAnswerWord(answerWords(text));
  if (isLetter(final)) return { value: final!.toLowerCase(), how: "final" };
  const alone = text.replace(/[^\p{L}\p{N}]/gu, "");
  if (isLetter(alone)) return { value: alone.toLowerCase(), how: "alone" };
  const quoted = /['"‘“`](\p{L})['"’”`]/u.exec(text);
  if (quoted) return { value: quoted[1]!.toLowerCase(), how: "quoted" };
  const after = [...text.matchAll(/\b(?:is|it['’]s)\s+(\p{L})(?![\p{L}\p{N}])/giu)];
  if (after.length > 0) return { value: after[after.length - 1]![1]!.toLowerCase(), how: "is" };
  return { value: undefined, how: "none" };
}

/**
 * Correct when the reply's answer is the right number or letter. Numbers are read as in
 * arithmetic (direct replies at their first number, the others at "The answer is N." or their
 * last number; "three" counts as 3); letters by `readLetterAnswer`, in any case.
 */
export function scoreLetters(example: TaskExample, reply: string): Score {
  const kind = example.meta.kind as LetterKind;
  const answer = example.meta.answer as string;
  const form = (example.meta.form as LetterForm | undefined) ?? "code";
  let value: string | undefined;
  let how: string;
  if (answerKindOf(kind) === "number") {
    const r = readNumberAnswer(reply, form === "direct" ? "first" : "final");
    value = r.value === undefined ? undefined : String(r.value);
    how = r.how;
  } else {
    const r = readLetterAnswer(reply);
    value = r.value;
    how = r.how;
  }
  const details = { how, usedCode: reply.includes(CHAT_TOKENS.pythonStart) };
  if (value === undefined) {
    return { correct: false, reward: 0, reason: `no ${answerKindOf(kind)} found`, details };
  }
  if (value === answer)
    return { correct: true, reward: 1, reason: `answer ${answer} (${how})`, details };
  return { correct: false, reward: 0, reason: `${value} (${how}), not ${answer}`, details };
}

export function lettersTask(opts: LettersOptions = {}): Task {
  const o = { ...DEFAULTS, ...opts };
  return {
    name: "letters",
    description:
      "count letters, name the n-th or last letter, or the length of a word: at once, spelled out or with code (split by word)",
    examples(split, ctx) {
      if (!SPLITS.includes(split)) throw new UserError(`unknown split "${split}"`);
      return generate(split, ctx, o);
    },
    score: scoreLetters,
  };
}

export const letters: Task = lettersTask();
