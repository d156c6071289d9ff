/**
 * Task "lookup" — labelling instructions.
 *
 * The user asks one factual question about a country, a chemical element, a person or a city
 * (the questions of knowledge-qa), about facts pretraining saw rarely or never. The user
 * message may carry an instruction that says how to answer:
 * - "look it up", "use search" and the like → search first: the reply opens with one search
 *   call whose query is the entity's name and the relation's key words ("capital of Chad",
 *   "Charles Darwin born"), then, after the tool's output, one short full sentence stating the
 *   fact in knowledge-qa's form ("The capital of Chad is N'Djamena.").
 * - no instruction → the same: searching is the reliable way for a rare fact.
 * - "answer from memory", "don't search" and the like → no search: the bare sentence, as
 *   knowledge-qa answers.
 * The answer sentence states what the search output says; when the output does not hold the
 * answer, the example is left out of the train split (we do not teach answering past a failed
 * search).
 *
 * Reference replies: `<|search_start|>query<|search_end|><|output_start|>…<|output_end|>` then
 * the sentence. The output is exactly what the run's search tool returns for the query
 * (`ctx.search`, the tool over `runs/<run>/index/`); without `ctx.search` it is rendered from
 * the entity's reference passage by the tool's own formatter (the passage the index returns
 * first for almost every fact query), so the task works without an index (tests, and runs
 * that have not built one).
 *
 * Entities: with `ctx.mentions`, those pretraining saw at most `maxMentions` times (default 3:
 * the mention buckets 0, 1 and 2–3); without, all. Splits are knowledge-qa's entity split
 * (`entitySplit`), so a test entity of lookup is a test entity of knowledge-qa and is never
 * trained on in either task. The test and val splits ask every sampled fact twice, once in the
 * search form and once from memory, so eval compares the two on the same facts; results are
 * grouped by `lookupCellOf` (form × mention bucket).
 */
import { CHAT_TOKENS } from "../chat/conversation.js";
import type { Entity } from "../knowledge/types.js";
import { factQuery, referenceText } from "../search/reference.js";
import type { Rng } from "../tensor/rng.js";
import { formatSearchOutput } from "../tools/search.js";
import { UserError } from "../util/errors.js";
import {
  normalizeText,
  pick,
  rngFor,
  SPLITS,
  stratifiedSample,
  withoutToolSpans,
} from "./common.js";
import {
  entitySplit,
  MENTION_BUCKETS,
  type MentionBucket,
  mentionBucket,
  QA_RELATIONS,
  type QaRelation,
  RELATIONS,
  referenceAnswer,
  scoreKnowledgeQa,
} from "./knowledge-qa.js";
import type { Score, Split, Task, TaskContext, TaskExample } from "./task.js";

/** How the user asks to be answered; "none" is a question with no instruction. */
export const LOOKUP_STYLES = ["search", "none", "memory"] as const;
export type LookupStyle = (typeof LOOKUP_STYLES)[number];

/** The form of the reference reply: "none" is answered with a search. */
export type LookupForm = "search" | "memory";
export const LOOKUP_FORMS: readonly LookupForm[] = ["search", "memory"];

export function lookupForm(style: LookupStyle): LookupForm {
  return style === "memory" ? "memory" : "search";
}

export const LOOKUP_INSTRUCTIONS: Record<LookupForm, readonly string[]> = {
  search: [
    "Look it up.",
    "Use search.",
    "Search for it.",
    "Please look this up.",
    "Check with a search.",
    "Use the search tool.",
  ],
  memory: [
    "Answer from memory.",
    "Don't search, just answer.",
    "Answer without searching.",
    "No search, please.",
    "Answer without looking it up.",
    "From memory only.",
  ],
};

/** The style mix of the train split (shares). */
export const LOOKUP_TRAIN_MIX: Readonly<Record<LookupStyle, number>> = {
  search: 0.4,
  none: 0.4,
  memory: 0.2,
};

// ---------------------------------------------------------------------------------------------
// Cells

export interface LookupCell {
  form: LookupForm;
  bucket: MentionBucket;
  /** "search/0", "memory/2-3". */
  key: string;
}

function cell(form: LookupForm, bucket: MentionBucket): LookupCell {
  return { form, bucket, key: `${form}/${bucket}` };
}

/** Every form × mention bucket cell, in table order (the report shows the non-empty ones). */
export function lookupCells(): LookupCell[] {
  return LOOKUP_FORMS.flatMap((f) => MENTION_BUCKETS.map((b) => cell(f, b)));
}

export function lookupCellOf(example: TaskExample): LookupCell {
  return cell(example.meta.form as LookupForm, example.meta.bucket as MentionBucket);
}

// ---------------------------------------------------------------------------------------------
// Replies

/** A search call and its output, as the assistant's content holds them. */
export function searchCall(query: string, output: string): string {
  return `${CHAT_TOKENS.searchStart}${query}${CHAT_TOKENS.searchEnd}${CHAT_TOKENS.outputStart}${output}${CHAT_TOKENS.outputEnd}`;
}

/** The search output for a query: the run's tool, or the entity's reference passage. */
export function lookupOutput(ctx: TaskContext, query: string, entity: Entity): string {
  if (ctx.search) return ctx.search(query);
  return formatSearchOutput([{ title: entity.name, text: referenceText(entity) }]);
}

// ---------------------------------------------------------------------------------------------
// Generation

export interface LookupOptions {
  /** Facts per split at most (test and val ask each twice: with search and from memory). */
  limits?: Partial<Record<Split, number>>;
  /** With mention counts: entities seen at most this many times (default 3). */
  maxMentions?: number;
}

const DEFAULT_LIMITS: Record<Split, number> = { train: 2000, val: 100, test: 300 };

interface Item {
  entity: Entity;
  relation: QaRelation;
  values: string[];
  accepted: string[];
  mentions: number;
}

function items(split: Split, ctx: TaskContext, maxMentions: number): Item[] {
  const out: Item[] = [];
  for (const entity of ctx.knowledge.entities) {
    if (entitySplit(entity.key) !== split) continue;
    const mentions = ctx.mentions?.counts[entity.key] ?? 0;
    if (ctx.mentions && mentions > maxMentions) continue;
    for (const rel of QA_RELATIONS) {
      const values: string[] = [];
      const accepted: string[] = [];
      for (const f of entity.facts) {
        if (f.relation !== rel || f.value.trim() === "") continue;
        if (!values.includes(f.value)) values.push(f.value);
        for (const a of [f.value, ...f.aliases])
          if (a.trim() !== "" && !accepted.includes(a)) accepted.push(a);
      }
      if (values.length) out.push({ entity, relation: rel, values, accepted, mentions });
    }
  }
  return out;
}

/** At most `limit` items, taken in turn from shuffled (bucket, relation) groups, in `all`'s order. */
function sample(all: Item[], limit: number, rng: Rng): Item[] {
  if (all.length <= limit) return all;
  const out = stratifiedSample(
    all,
    limit,
    (it) => `${mentionBucket(it.mentions)}|${it.relation}`,
    rng,
  );
  const order = new Map(all.map((it, i) => [it, i]));
  return out.sort((a, b) => order.get(a)! - order.get(b)!);
}

function drawStyle(rng: Rng): LookupStyle {
  let u = rng.uniform();
  for (const s of LOOKUP_STYLES) {
    u -= LOOKUP_TRAIN_MIX[s];
    if (u < 0) return s;
  }
  return "none";
}

function userMessage(question: string, style: LookupStyle, rng: Rng): string {
  if (style === "none") return question;
  const instruction = pick(LOOKUP_INSTRUCTIONS[lookupForm(style)], rng);
  return rng.uniform() < 0.4 ? `${instruction} ${question}` : `${question} ${instruction}`;
}

/** The output states one of the accepted answers (normalised, as whole words). */
function outputHasAnswer(output: string, accepted: readonly string[]): boolean {
  const hay = ` ${normalizeText(output)} `;
  return accepted.some((a) => {
    const n = normalizeText(a);
    return n !== "" && hay.includes(` ${n} `);
  });
}

function example(
  split: Split,
  n: number,
  it: Item,
  style: LookupStyle,
  ctx: TaskContext,
  rng: Rng,
): TaskExample & { found: boolean } {
  const form = lookupForm(style);
  const question = pick(RELATIONS[it.relation].questions, rng).replace(/\{name\}/g, it.entity.name);
  const answer = referenceAnswer(it.relation, it.entity.name, it.values);
  const query = factQuery(it.relation, it.entity.name);
  let reply = answer;
  let found = true;
  if (form === "search") {
    const output = lookupOutput(ctx, query, it.entity);
    found = outputHasAnswer(output, it.accepted);
    reply = `${searchCall(query, output)}${answer}`;
  }
  const bucket = mentionBucket(it.mentions);
  return {
    id: `lookup/${split}/${n}`,
    conversation: {
      messages: [
        { role: "user", content: userMessage(question, style, rng) },
        { role: "assistant", content: reply },
      ],
    },
    meta: {
      entity: it.entity.key,
      kind: it.entity.kind,
      relation: it.relation,
      accepted: it.accepted,
      names: [it.entity.name, ...it.entity.aliases],
      style,
      form,
      query: form === "search" ? query : undefined,
      outputHasAnswer: form === "search" ? found : undefined,
      mentions: ctx.mentions ? it.mentions : undefined,
      bucket,
      cell: cell(form, bucket).key,
    },
    found,
  };
}

function generate(
  split: Split,
  ctx: TaskContext,
  limits: Record<Split, number>,
  maxMentions: number,
): TaskExample[] {
  const rng = rngFor(ctx.seed, "lookup", split);
  const chosen = sample(items(split, ctx, maxMentions), limits[split], rng);
  const out: TaskExample[] = [];
  const push = (e: TaskExample & { found: boolean }) => {
    const { found: _found, ...ex } = e;
    out.push({ ...ex, id: `lookup/${split}/${out.length}` });
  };
  for (const it of chosen) {
    if (split === "train") {
      const e = example(split, out.length, it, drawStyle(rng), ctx, rng);
      if (e.found) push(e);
    } else {
      // every fact both ways: searched (with or without the instruction, in turn) and from memory
      push(example(split, out.length, it, out.length % 4 === 0 ? "none" : "search", ctx, rng));
      push(example(split, out.length, it, "memory", ctx, rng));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scoring

/**
 * Correct when the assistant's own words (tool calls and outputs removed) state an accepted
 * answer, as knowledge-qa scores it (aliases, normalisation, echoes of the subject's name and
 * closed sets). `details.usedSearch`: the reply called search; `details.followed`: it searched
 * when the search form was asked for and did not when memory was.
 */
export function scoreLookup(example: TaskExample, reply: string): Score {
  const usedSearch = reply.includes(CHAT_TOKENS.searchStart);
  const form = (example.meta.form as LookupForm | undefined) ?? "search";
  const s = scoreKnowledgeQa(example, withoutToolSpans(reply));
  return {
    ...s,
    details: { usedSearch, followed: usedSearch === (form === "search"), form },
  };
}

/** The lookup task, with its per-split limits. */
export function lookupTask(opts: LookupOptions = {}): Task {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const maxMentions = opts.maxMentions ?? 3;
  return {
    name: "lookup",
    description:
      "questions about rarely seen facts answered with a search call (or from memory when asked), split by entity as knowledge-qa",
    examples(split, ctx) {
      if (!SPLITS.includes(split)) throw new UserError(`unknown split "${split}"`);
      return generate(split, ctx, limits, maxMentions);
    },
    score: scoreLookup,
  };
}

export const lookup: Task = lookupTask();
