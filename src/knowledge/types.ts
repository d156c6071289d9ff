/**
 * The typed facts every later stage shares (DESIGN.md §4): the knowledge pages of the corpus,
 * the knowledge-QA task, knowledge probing and the search index all read the same list, so
 * "does the model know X" has a ground truth and a frequency.
 *
 * An entity (France, Iron, Charles Darwin) has a kind, a display name, aliases, and facts;
 * a fact is (entity, relation, value, aliases of the value). How often pretraining saw an
 * entity is not stored here: it is measured per run, after the data pipeline, as the entity's
 * mention count in the token shards (`shards/mentions.json`).
 */

/** What kind of thing an entity is; each kind has its own relations. */
export type EntityKind = "country" | "element" | "person" | "city" | "region";

/**
 * Relations, by the kind of entity they belong to:
 * - country: capital, continent, language, currency
 * - element: symbol, atomic-number, standard-state (solid/liquid/gas), year-discovered
 * - person: birth-year, death-year, description (WordNet's gloss, e.g. "English naturalist")
 * - city: country
 * - region: capital, part-of (the country or map it belongs to)
 */
export type Relation =
  | "capital"
  | "continent"
  | "language"
  | "currency"
  | "symbol"
  | "atomic-number"
  | "standard-state"
  | "year-discovered"
  | "birth-year"
  | "death-year"
  | "description"
  | "country"
  | "part-of";

export interface Fact {
  /** The entity's key (Entity.key). */
  entity: string;
  relation: Relation;
  /** The canonical answer, as a page would state it ("Paris", "26", "1809"). */
  value: string;
  /** Other answers that count as correct ("Paris, France"; "Fe" for symbol questions: none). */
  aliases: string[];
}

export interface Entity {
  /** Stable, unique across sources: `<kind>:<normalised name>` (e.g. "country:france"). */
  key: string;
  kind: EntityKind;
  /** The display name ("France"). */
  name: string;
  /** Other names that refer to it ("French Republic"); may be empty. */
  aliases: string[];
  /** Where it came from (npm package or Debian package name). */
  source: string;
  facts: Fact[];
}

export interface KnowledgeBase {
  /** Sorted by key; deterministic for a given set of sources. */
  entities: Entity[];
  /** The sources read, with how many entities and facts each gave. */
  sources: {
    name: string;
    /** Entities this source added (for a Debian source: new entities only). */
    entities: number;
    /** Facts this source added (for a Debian source: to new and to known entities). */
    facts: number;
    /** Debian sources: known entities it added facts or aliases to. */
    merged?: number;
    /** Debian sources: values that disagreed with the known fact (left out). */
    conflicts?: number;
  }[];
}

/** Per-entity mention counts as they reached the training shards (after filtering and dedup). */
export interface MentionCounts {
  /** entity key → number of training documents that state at least one of its facts. */
  counts: Record<string, number>;
  /** Knowledge pages written to the corpus, kept by the data pipeline, and in the train split. */
  pages: { written: number; kept: number; train: number };
}
