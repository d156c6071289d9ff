/**
 * Names and keys shared by the knowledge readers: the normalised form that entity keys and
 * alias matching use, the alternative spellings a value is commonly written in, and the
 * builder that turns one reader's raw entities into the unique, sorted list of a source.
 */
import type { Entity, EntityKind, Fact, Relation } from "./types.js";

/** Lower-case ASCII words joined by '-': "Côte d'Ivoire" → "cote-d-ivoire". */
export function normaliseName(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

export function entityKey(kind: EntityKind, name: string): string {
  return `${kind}:${normaliseName(name)}`;
}

/** Collapses runs of white space and trims. */
export function clean(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/**
 * Other ways a value is written: "Washington D.C." → "Washington, D.C.", "Washington DC",
 * "Washington"; "Saint-Denis (Réunion)" → "Saint-Denis"; accents dropped ("Bogota").
 */
export function valueAliases(value: string): string[] {
  const out = new Set<string>();
  const add = (s: string) => {
    const c = clean(s);
    if (c && c !== value) out.add(c);
  };
  const noParen = value.replace(/\s*\([^)]*\)\s*/g, " ");
  add(noParen);
  if (/\bD\.C\.$/.test(value)) {
    const base = value.replace(/,?\s*D\.C\.$/, "");
    add(`${base}, D.C.`);
    add(`${base} D.C.`);
    add(`${base} DC`);
    add(base);
  }
  if (value.includes(",")) add(value.split(",")[0]!);
  const ascii = value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  if (/^[\x20-\x7e]+$/.test(ascii)) add(ascii);
  return [...out];
}

/** The order facts are listed in within an entity. */
export const RELATION_ORDER: Relation[] = [
  "capital",
  "continent",
  "language",
  "currency",
  "symbol",
  "atomic-number",
  "standard-state",
  "year-discovered",
  "birth-year",
  "death-year",
  "description",
  "country",
  "part-of",
];

/** What a reader produces before keys are checked for uniqueness. */
export interface RawEntity {
  kind: EntityKind;
  name: string;
  aliases?: string[];
  facts: { relation: Relation; value: string; aliases?: string[] }[];
}

function sortFacts(facts: Fact[]): Fact[] {
  return facts.sort(
    (a, b) => RELATION_ORDER.indexOf(a.relation) - RELATION_ORDER.indexOf(b.relation),
  );
}

/** Unique, sorted aliases that differ from `not` (case-insensitively). */
export function tidyAliases(list: Iterable<string>, not: string): string[] {
  const seen = new Set([not.toLowerCase()]);
  const out: string[] = [];
  for (const a of list) {
    const c = clean(a);
    if (!c || seen.has(c.toLowerCase())) continue;
    seen.add(c.toLowerCase());
    out.push(c);
  }
  return out.sort();
}

/**
 * One source's entities: facts with empty values are dropped, entities left without facts are
 * dropped, and a key produced twice with different facts is ambiguous ("John Adams" the
 * president and his namesake) and dropped altogether; identical repeats collapse to one.
 */
export function buildEntities(source: string, raws: RawEntity[]): Entity[] {
  const byKey = new Map<string, Entity | null>();
  for (const r of raws) {
    const name = clean(r.name);
    const key = entityKey(r.kind, name);
    if (!name || key.endsWith(":")) continue;
    const facts: Fact[] = [];
    const seenRel = new Set<Relation>();
    for (const f of r.facts) {
      const value = clean(f.value);
      if (!value || seenRel.has(f.relation)) continue;
      seenRel.add(f.relation);
      facts.push({
        entity: key,
        relation: f.relation,
        value,
        aliases: tidyAliases([...(f.aliases ?? []), ...valueAliases(value)], value),
      });
    }
    if (facts.length === 0) continue;
    const e: Entity = {
      key,
      kind: r.kind,
      name,
      aliases: tidyAliases(r.aliases ?? [], name),
      source,
      facts: sortFacts(facts),
    };
    if (!byKey.has(key)) {
      byKey.set(key, e);
      continue;
    }
    const prev = byKey.get(key);
    if (prev === null) continue;
    const same =
      prev !== undefined &&
      JSON.stringify(prev.facts.map((f) => [f.relation, f.value])) ===
        JSON.stringify(e.facts.map((f) => [f.relation, f.value]));
    if (same && prev) prev.aliases = tidyAliases([...prev.aliases, ...e.aliases], prev.name);
    else byKey.set(key, null);
  }
  return [...byKey.values()]
    .filter((e): e is Entity => e !== null)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export { sortFacts };
