/**
 * `loadKnowledge`: the knowledge base every later stage shares. The npm sources are read by
 * default (the same on every machine); the Debian ones on request. Debian entries that name an
 * entity already known (by name or alias, a region that is a known country counting as that
 * country) add their missing facts and their spellings as aliases; a value that disagrees with
 * the known one is counted as a conflict and left out. The rest become new entities.
 */
import { CITIES_SOURCE, readCities } from "./cities.js";
import { COUNTRIES_SOURCE, readCountries } from "./countries.js";
import { readBsdQuiz, readDictElements, readKgeography } from "./debian.js";
import { ELEMENTS_SOURCE, readElements } from "./elements.js";
import {
  buildEntities,
  entityKey,
  normaliseName,
  type RawEntity,
  sortFacts,
  tidyAliases,
  valueAliases,
} from "./names.js";
import { PEOPLE_SOURCE, readPeople } from "./people.js";
import type { Entity, EntityKind, KnowledgeBase } from "./types.js";

export interface LoadKnowledgeOptions {
  /** Also read the Debian packages bsdgames, kgeography-data and dict-elements. */
  debian?: boolean;
}

type SourceStats = KnowledgeBase["sources"][number];

class Merger {
  readonly byKey = new Map<string, Entity>();
  /** kind:normalised name or alias → entity keys */
  readonly index = new Map<string, Set<string>>();

  #numbers: Map<string, Entity> | undefined;
  #byNumber(): Map<string, Entity> {
    if (!this.#numbers) {
      this.#numbers = new Map();
      for (const e of this.byKey.values()) {
        const n = e.facts.find((f) => f.relation === "atomic-number")?.value;
        if (e.kind === "element" && n) this.#numbers.set(n, e);
      }
    }
    return this.#numbers;
  }

  add(e: Entity): void {
    this.#numbers = undefined;
    this.byKey.set(e.key, e);
    for (const n of [e.name, ...e.aliases]) this.#indexName(e.kind, n, e.key);
  }

  #indexName(kind: EntityKind, name: string, key: string): void {
    const k = `${kind}:${normaliseName(name)}`;
    let s = this.index.get(k);
    if (!s) this.index.set(k, (s = new Set()));
    s.add(key);
  }

  /** The one known entity of this kind a raw entry names, if exactly one. */
  find(kind: EntityKind, raw: RawEntity): Entity | undefined {
    if (kind === "element") {
      // elements by atomic number: names differ ("Caesium", "Unnilpentium" for Dubnium)
      const n = raw.facts.find((f) => f.relation === "atomic-number")?.value;
      const hit = n === undefined ? undefined : this.#byNumber().get(n);
      if (hit) return hit;
    }
    const direct = this.byKey.get(entityKey(kind, raw.name));
    if (direct) return direct;
    const hits = new Set<string>();
    for (const n of [raw.name, ...(raw.aliases ?? [])])
      for (const k of this.index.get(`${kind}:${normaliseName(n)}`) ?? []) hits.add(k);
    return hits.size === 1 ? this.byKey.get([...hits][0]!) : undefined;
  }

  /** Merges a Debian source's entries; returns its stats. */
  merge(source: string, raws: RawEntity[]): SourceStats {
    const stats = { name: source, entities: 0, facts: 0, merged: 0, conflicts: 0 };
    const fresh: RawEntity[] = [];
    const touched = new Set<string>();
    for (const raw of raws) {
      let target = this.find(raw.kind, raw);
      let facts = raw.facts;
      if (!target && raw.kind === "region") {
        target = this.find("country", raw);
        if (target) facts = facts.filter((f) => f.relation === "capital");
      }
      if (!target) {
        fresh.push(raw);
        continue;
      }
      touched.add(target.key);
      for (const f of facts) {
        const spellings = [f.value, ...(f.aliases ?? [])].filter(Boolean);
        const have = target.facts.find((x) => x.relation === f.relation);
        if (!have) {
          target.facts.push({
            entity: target.key,
            relation: f.relation,
            value: f.value,
            aliases: tidyAliases([...spellings.slice(1), ...valueAliases(f.value)], f.value),
          });
          stats.facts++;
          continue;
        }
        const known = new Set([have.value, ...have.aliases].map(normaliseName));
        if (spellings.some((s) => known.has(normaliseName(s)))) {
          have.aliases = tidyAliases([...have.aliases, ...spellings], have.value);
        } else stats.conflicts++;
      }
      sortFacts(target.facts);
      target.aliases = tidyAliases(
        [...target.aliases, raw.name, ...(raw.aliases ?? [])],
        target.name,
      );
    }
    stats.merged = touched.size;
    for (const e of buildEntities(source, fresh)) {
      if (this.byKey.has(e.key)) continue;
      this.add(e);
      stats.entities++;
      stats.facts += e.facts.length;
    }
    return stats;
  }
}

/** Reads the knowledge bases into one sorted, deterministic list of entities and facts. */
export function loadKnowledge(opts: LoadKnowledgeOptions = {}): KnowledgeBase {
  const m = new Merger();
  const sources: SourceStats[] = [];
  const npm: [string, () => Entity[]][] = [
    [COUNTRIES_SOURCE, readCountries],
    [ELEMENTS_SOURCE, readElements],
    [PEOPLE_SOURCE, readPeople],
    [CITIES_SOURCE, () => readCities()],
  ];
  for (const [name, read] of npm) {
    let entities = 0;
    let facts = 0;
    for (const e of read()) {
      if (m.byKey.has(e.key)) continue; // keys carry the kind, so sources never collide
      m.add(e);
      entities++;
      facts += e.facts.length;
    }
    sources.push({ name, entities, facts });
  }
  if (opts.debian) {
    sources.push(m.merge("bsdgames", readBsdQuiz()));
    sources.push(m.merge("kgeography-data", readKgeography()));
    sources.push(m.merge("dict-elements", readDictElements()));
  }
  const entities = [...m.byKey.values()].sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
  );
  return { entities, sources };
}

/** The entity with this key (binary search over the sorted list). */
export function entityByKey(kb: KnowledgeBase, key: string): Entity | undefined {
  let lo = 0;
  let hi = kb.entities.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = kb.entities[mid]!.key;
    if (k === key) return kb.entities[mid];
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}
