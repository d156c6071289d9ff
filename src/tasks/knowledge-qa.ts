/**
 * Task "knowledge-qa" — labelling instructions.
 *
 * The user asks one factual question about a country, a chemical element, a person, a city or a
 * region: a capital, continent, language, currency, chemical symbol, atomic number, state at
 * room temperature, year of discovery, year of birth or death, or the country a city is in.
 * Answer with one short full sentence that restates the subject and states the fact, in the
 * fixed form of its relation ("The capital of France is Paris."; "Charles Darwin was born in
 * 1809."). Numbers as digits. No hedging, no extra facts. When a fact has several values
 * (several languages), name up to three.
 *
 * Splits are by entity (a stable hash of its key), so the answers of test entities are never
 * taught by SFT: the test split measures what pretraining taught.
 */
import type { Entity, KnowledgeBase, MentionCounts, Relation } from "../knowledge/types.js";
import { UserError } from "../util/errors.js";
import {
  findWordSeq,
  joinList,
  normalizeWords,
  pick,
  rngFor,
  SPLITS,
  splitOfKey,
  stratifiedSample,
} from "./common.js";
import type { Score, Split, Task, TaskContext, TaskExample } from "./task.js";

/** The relations this task asks about. */
export type QaRelation = Exclude<Relation, "description" | "part-of">;

interface RelationSpec {
  /** Question templates; `{name}` is the entity's display name. */
  questions: string[];
  /** The reference sentence; `{name}`, `{value}` (several values joined "a, b and c"). */
  answer: string;
  /** Match the answer keeping case (chemical symbols: "I" is iodine, "i" is not). */
  keepCase?: boolean;
  /** A closed set of answers: a reply that also names another member is wrong. */
  closedSet?: string[];
}

const CONTINENTS = [
  "Africa",
  "Antarctica",
  "Asia",
  "Europe",
  "North America",
  "South America",
  "Oceania",
  "Australia",
];

export const RELATIONS: Record<QaRelation, RelationSpec> = {
  capital: {
    questions: [
      "What is the capital of {name}?",
      "Which city is the capital of {name}?",
      "What is the capital city of {name}?",
      "Name the capital of {name}.",
    ],
    answer: "The capital of {name} is {value}.",
  },
  continent: {
    questions: [
      "Which continent is {name} in?",
      "On what continent is {name}?",
      "{name} is on which continent?",
      "What continent is {name} part of?",
    ],
    answer: "{name} is in {value}.",
    closedSet: CONTINENTS,
  },
  language: {
    questions: [
      "What language is spoken in {name}?",
      "What is the main language of {name}?",
      "Which language do people speak in {name}?",
    ],
    answer: "People in {name} speak {value}.",
  },
  currency: {
    questions: [
      "What is the currency of {name}?",
      "What money is used in {name}?",
      "Which currency does {name} use?",
    ],
    answer: "The currency of {name} is {value}.",
  },
  symbol: {
    questions: [
      "What is the chemical symbol of {name}?",
      "What is the symbol for {name}?",
      "Which symbol stands for {name}?",
    ],
    answer: "The chemical symbol of {name} is {value}.",
    keepCase: true,
  },
  "atomic-number": {
    questions: [
      "What is the atomic number of {name}?",
      "Which atomic number does {name} have?",
      "How many protons does {name} have?",
    ],
    answer: "The atomic number of {name} is {value}.",
  },
  "standard-state": {
    questions: [
      "Is {name} a solid, liquid or gas at room temperature?",
      "What state is {name} in at room temperature?",
      "At room temperature, is {name} a solid, a liquid or a gas?",
    ],
    answer: "{name} is a {value} at room temperature.",
    closedSet: ["solid", "liquid", "gas"],
  },
  "year-discovered": {
    questions: [
      "When was {name} discovered?",
      "In what year was {name} discovered?",
      "What year was {name} first discovered?",
    ],
    answer: "{name} was discovered in {value}.",
  },
  "birth-year": {
    questions: [
      "When was {name} born?",
      "In what year was {name} born?",
      "What year was {name} born in?",
    ],
    answer: "{name} was born in {value}.",
  },
  "death-year": {
    questions: [
      "When did {name} die?",
      "In what year did {name} die?",
      "What year did {name} die in?",
    ],
    answer: "{name} died in {value}.",
  },
  country: {
    questions: [
      "Which country is {name} in?",
      "In which country is the city of {name}?",
      "{name} is a city in which country?",
    ],
    answer: "{name} is a city in {value}.",
  },
};

export const QA_RELATIONS = Object.keys(RELATIONS) as QaRelation[];

/** The split an entity belongs to (stable hash of its key; 80 % train, 10 % val, 10 % test). */
export function entitySplit(key: string): Split {
  return splitOfKey(key, "knowledge-qa");
}

// ---------------------------------------------------------------------------------------------
// Mention buckets

export const MENTION_BUCKETS = ["0", "1", "2-3", "4-7", "8-15", "16-31", "32+"] as const;
export type MentionBucket = (typeof MENTION_BUCKETS)[number];

/** 0, 1, 2–3, 4–7, 8–15, 16–31, 32+. */
export function mentionBucket(count: number): MentionBucket {
  if (!(count > 0)) return "0";
  if (count < 2) return "1";
  if (count < 4) return "2-3";
  if (count < 8) return "4-7";
  if (count < 16) return "8-15";
  if (count < 32) return "16-31";
  return "32+";
}

/** How often pretraining saw the example's entity (0 when the run did not count it). */
export function mentionsOf(example: TaskExample, mentions: MentionCounts | undefined): number {
  return mentions?.counts[example.meta.entity as string] ?? 0;
}

export interface BucketAccuracy {
  bucket: MentionBucket;
  n: number;
  correct: number;
  /** correct / n; NaN for an empty bucket. */
  accuracy: number;
}

/** Scored examples grouped by the mention bucket of their entity, every bucket listed in order. */
export function accuracyByMentionBucket(
  scored: readonly { example: TaskExample; score: Score }[],
  mentions: MentionCounts | undefined,
): BucketAccuracy[] {
  const rows = new Map<MentionBucket, BucketAccuracy>(
    MENTION_BUCKETS.map((b) => [b, { bucket: b, n: 0, correct: 0, accuracy: Number.NaN }]),
  );
  for (const { example, score } of scored) {
    const row = rows.get(mentionBucket(mentionsOf(example, mentions)))!;
    row.n++;
    if (score.correct) row.correct++;
  }
  for (const row of rows.values()) row.accuracy = row.n > 0 ? row.correct / row.n : Number.NaN;
  return [...rows.values()];
}

// ---------------------------------------------------------------------------------------------
// Generation

export interface KnowledgeQaOptions {
  /** Examples per split at most (a deterministic sample, stratified by bucket and relation). */
  limits?: Partial<Record<Split, number>>;
}

const DEFAULT_LIMITS: Record<Split, number> = { train: 4000, val: 300, test: 600 };

/** One question per (entity, relation): the facts of that relation grouped. */
interface Item {
  entity: Entity;
  relation: QaRelation;
  values: string[];
  accepted: string[];
}

function items(kb: KnowledgeBase, split: Split): Item[] {
  const out: Item[] = [];
  for (const entity of kb.entities) {
    if (entitySplit(entity.key) !== split) continue;
    const byRel = new Map<QaRelation, { values: string[]; accepted: string[] }>();
    for (const f of entity.facts) {
      if (!(f.relation in RELATIONS) || f.value.trim() === "") continue;
      const rel = f.relation as QaRelation;
      let g = byRel.get(rel);
      if (!g) byRel.set(rel, (g = { values: [], accepted: [] }));
      if (!g.values.includes(f.value)) g.values.push(f.value);
      for (const a of [f.value, ...f.aliases]) {
        if (a.trim() !== "" && !g.accepted.includes(a)) g.accepted.push(a);
      }
    }
    for (const rel of QA_RELATIONS) {
      const g = byRel.get(rel);
      if (g) out.push({ entity, relation: rel, ...g });
    }
  }
  return out;
}

function fill(template: string, name: string, value: string): string {
  return template.replace(/\{name\}/g, name).replace(/\{value\}/g, value);
}

/** The reference sentence for an entity's relation. */
export function referenceAnswer(relation: QaRelation, name: string, values: string[]): string {
  const sentence = fill(RELATIONS[relation].answer, name, joinList(values.slice(0, 3)));
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

function generate(split: Split, ctx: TaskContext, limits: Record<Split, number>): TaskExample[] {
  const rng = rngFor(ctx.seed, "knowledge-qa", split);
  const all = items(ctx.knowledge, split);
  const bucketOf = (it: Item) => mentionBucket(ctx.mentions?.counts[it.entity.key] ?? 0);
  const chosen = stratifiedSample(
    all,
    limits[split],
    split === "train" ? (it) => it.relation : (it) => `${bucketOf(it)}|${it.relation}`,
    rng,
  );
  // keep the knowledge base's order (sorted by entity key) after sampling, for stable ids
  const order = new Map(all.map((it, i) => [it, i]));
  chosen.sort((a, b) => order.get(a)! - order.get(b)!);
  return chosen.map((it, n) => {
    const question = fill(pick(RELATIONS[it.relation].questions, rng), it.entity.name, "");
    return {
      id: `knowledge-qa/${split}/${n}`,
      conversation: {
        messages: [
          { role: "user", content: question },
          { role: "assistant", content: referenceAnswer(it.relation, it.entity.name, it.values) },
        ],
      },
      meta: {
        entity: it.entity.key,
        kind: it.entity.kind,
        relation: it.relation,
        accepted: it.accepted,
        names: [it.entity.name, ...it.entity.aliases],
        mentions: ctx.mentions ? (ctx.mentions.counts[it.entity.key] ?? 0) : undefined,
      },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Scoring

/** "I am not sure" is not iodine: drop the pronoun before matching. */
function dropPronounI(words: string[]): string[] {
  const next = new Set([
    "am",
    "m",
    "think",
    "believe",
    "do",
    "dont",
    "have",
    "was",
    "can",
    "cant",
    "know",
    "guess",
    "would",
    "will",
  ]);
  return words.filter(
    (w, i) => !(w === "I" && i + 1 < words.length && next.has(words[i + 1]!.toLowerCase())),
  );
}

/**
 * Whether `reply` states one of `accepted` as whole words (after normalisation: case, accents,
 * punctuation, articles, number words), not counting the words that only repeat the subject's
 * name ("The capital of Luxembourg is Paris" does not say "Luxembourg" as the answer; "The
 * capital of Luxembourg is Luxembourg" does). `keepCase` matches case-sensitively (chemical
 * symbols); codes in capitals ("ALL", the Albanian lek) always are. Returns the accepted
 * answer found, or null.
 */
export function matchAnswer(
  reply: string,
  accepted: readonly string[],
  names: readonly string[] = [],
  keepCase = false,
): string | null {
  const words = dropPronounI(normalizeWords(reply, true));
  const lower = words.map((w) => w.toLowerCase());
  const nameSeqs = names.map((n) => normalizeWords(n)).filter((n) => n.length > 0);
  const nameSpans: [number, number][] = [];
  for (const n of nameSeqs) {
    for (const at of findWordSeq(lower, n)) nameSpans.push([at, at + n.length]);
  }
  for (const a of accepted) {
    const cased = keepCase || /^[A-Z]{2,4}$/.test(a.trim());
    const seq = normalizeWords(a, cased);
    if (seq.length === 0) continue;
    const hay = cased ? words : lower;
    const seqLower = seq.join(" ").toLowerCase();
    const isName = nameSeqs.some((n) => n.join(" ") === seqLower);
    const found = findWordSeq(hay, seq);
    if (isName && words.length === seq.length && found.length === 1) return a;
    let echoes = 0;
    for (const at of found) {
      const inName = nameSpans.some(([s, e]) => s <= at && at + seq.length <= e);
      if (!inName) return a;
      // the answer is the subject's own name: its first mention is the echo, a second is the answer
      if (isName && ++echoes >= 2) return a;
    }
  }
  return null;
}

export function scoreKnowledgeQa(example: TaskExample, reply: string): Score {
  const relation = example.meta.relation as QaRelation;
  const spec = RELATIONS[relation];
  const accepted = (example.meta.accepted as string[] | undefined) ?? [];
  const names = (example.meta.names as string[] | undefined) ?? [];
  const hit = matchAnswer(reply, accepted, names, spec?.keepCase ?? false);
  if (!hit) {
    return { correct: false, reward: 0, reason: `answer ${accepted[0] ?? "?"} not found` };
  }
  if (spec?.closedSet) {
    const acceptedNorm = new Set(accepted.map((a) => normalizeWords(a).join(" ")));
    const others = spec.closedSet.filter(
      (c) =>
        !acceptedNorm.has(normalizeWords(c).join(" ")) && matchAnswer(reply, [c], names) !== null,
    );
    // "South America" contains no "America" member; but a reply naming Asia for Europe is wrong
    if (others.length > 0) {
      return { correct: false, reward: 0, reason: `also says ${others.join(", ")}` };
    }
  }
  return { correct: true, reward: 1, reason: `says ${hit}` };
}

/** The knowledge-QA task, with its per-split limits. */
export function knowledgeQaTask(opts: KnowledgeQaOptions = {}): Task {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  return {
    name: "knowledge-qa",
    description:
      "one-sentence answers to factual questions about the knowledge base, split by entity",
    examples(split, ctx) {
      if (!SPLITS.includes(split)) throw new UserError(`unknown split "${split}"`);
      return generate(split, ctx, limits);
    },
    score: scoreKnowledgeQa,
  };
}

export const knowledgeQa: Task = knowledgeQaTask();
