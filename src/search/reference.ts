/**
 * The reference passages: one short encyclopedia entry per entity of the knowledge base,
 * stating all its facts. The corpus's knowledge pages mention only the entities the draw gave
 * pages to, and cleaning drops some of those; the reference passages make every fact findable,
 * including those pretraining saw rarely or never (what the "lookup" task asks about).
 *
 * Each entry repeats the entity's name in each sentence, as an encyclopedia stub does, so that
 * a query naming the entity and the relation ("capital of Chad") matches it on both. The
 * passage's title is the entity's name, its URL `kb://<entity key>`.
 */
import type { Entity, Fact, KnowledgeBase, Relation } from "../knowledge/types.js";
import type { Passage } from "./passages.js";

const article = (s: string) => (/^([aeio]|u(?!ni|s|k)|hei|hon)/i.test(s) ? "an" : "a");

/** "a", "a and b", "a, b and c". */
function list(values: readonly string[]): string {
  if (values.length <= 1) return values.join("");
  return `${values.slice(0, -1).join(", ")} and ${values[values.length - 1]}`;
}

/** One fact (or several values of one relation) as a sentence about `n`. */
function sentence(rel: Relation, n: string, facts: Fact[]): string {
  const v = list(facts.map((f) => f.value));
  const aka = facts.flatMap((f) => f.aliases).filter((a) => /^[A-Z]{2,4}$/.test(a));
  switch (rel) {
    case "capital":
      return `The capital of ${n} is ${v}.`;
    case "continent":
      return `${n} is in ${v}.`;
    case "language":
      return `The main language of ${n} is ${v}.`;
    case "currency":
      return `The currency of ${n} is the ${v}${aka.length ? ` (${aka.join(", ")})` : ""}.`;
    case "symbol":
      return `The chemical symbol of ${n} is ${v}.`;
    case "atomic-number":
      return `The atomic number of ${n} is ${v}.`;
    case "standard-state":
      return `At room temperature ${n} is ${article(v)} ${v}.`;
    case "year-discovered":
      return /^\d+$/.test(v)
        ? `${n} was discovered in ${v}.`
        : `${n} has been known since ${v} times.`;
    case "birth-year":
      return `${n} was born in ${v}.`;
    case "death-year":
      return `${n} died in ${v}.`;
    case "description":
      return `${n} was ${article(v)} ${v}.`;
    case "country":
      return `${n} is a city in ${v}.`;
    case "part-of":
      return `${n} is a region of ${v}.`;
  }
}

/** What an entry says first, by kind. */
const ORDER: Relation[] = [
  "description",
  "part-of",
  "country",
  "continent",
  "capital",
  "language",
  "currency",
  "symbol",
  "atomic-number",
  "standard-state",
  "year-discovered",
  "birth-year",
  "death-year",
];

/** The entry's text: the entity's other names, then one sentence per relation. */
export function referenceText(e: Entity): string {
  const byRel = new Map<Relation, Fact[]>();
  for (const f of e.facts) {
    if (f.value.trim() === "") continue;
    const list = byRel.get(f.relation) ?? [];
    if (!list.some((g) => g.value === f.value)) list.push(f);
    byRel.set(f.relation, list);
  }
  const out: string[] = [];
  const aliases = e.aliases.filter((a) => a !== e.name).slice(0, 3);
  if (aliases.length) out.push(`${e.name} is also called ${list(aliases)}.`);
  if (e.kind === "country" && !byRel.has("continent")) out.push(`${e.name} is a country.`);
  if (e.kind === "element") out.push(`${e.name} is a chemical element.`);
  for (const rel of ORDER) {
    const facts = byRel.get(rel);
    if (facts) out.push(sentence(rel, e.name, facts));
  }
  if (e.kind === "country" && byRel.has("continent")) {
    // "Chad is in Africa." reads better as "Chad is a country in Africa."
    const i = out.findIndex((s) => s.startsWith(`${e.name} is in `));
    if (i >= 0) out[i] = out[i]!.replace(" is in ", " is a country in ");
  }
  return out.join(" ");
}

/** The reference passages of the whole knowledge base, in its order, ids from `firstId`. */
export function referencePassages(kb: KnowledgeBase, firstId = 0): Passage[] {
  return kb.entities.map((e, i) => ({
    id: firstId + i,
    doc: e.key,
    url: `kb://${e.key}`,
    title: e.name,
    text: referenceText(e),
    source: "reference" as const,
    entity: e.key,
  }));
}

/**
 * The search query for an entity's fact, as the "lookup" task writes it: short, the entity's
 * name and the relation's key words ("capital of Chad", "Charles Darwin born").
 */
export function factQuery(relation: Relation, name: string): string {
  switch (relation) {
    case "capital":
      return `capital of ${name}`;
    case "continent":
      return `${name} continent`;
    case "language":
      return `${name} language`;
    case "currency":
      return `${name} currency`;
    case "symbol":
      return `${name} chemical symbol`;
    case "atomic-number":
      return `${name} atomic number`;
    case "standard-state":
      return `${name} room temperature`;
    case "year-discovered":
      return `${name} discovered`;
    case "birth-year":
      return `${name} born`;
    case "death-year":
      return `${name} died`;
    case "description":
      return `who was ${name}`;
    case "country":
      return `city of ${name}`;
    case "part-of":
      return `${name} region`;
  }
}
