/**
 * A small handmade knowledge base and identity for the task tests (not the real loader's data).
 */
import type { Entity, Fact, KnowledgeBase, MentionCounts } from "../knowledge/types.js";
import type { IdentityFacts, TaskContext } from "./task.js";

function entity(
  kind: Entity["kind"],
  name: string,
  facts: [Fact["relation"], string, string[]?][],
  aliases: string[] = [],
): Entity {
  const key = `${kind}:${name.toLowerCase()}`;
  return {
    key,
    kind,
    name,
    aliases,
    source: "fixture",
    facts: facts.map(([relation, value, al]) => ({
      entity: key,
      relation,
      value,
      aliases: al ?? [],
    })),
  };
}

const COUNTRIES: [string, string, string, string, string][] = [
  ["France", "Paris", "Europe", "French", "Euro"],
  ["Germany", "Berlin", "Europe", "German", "Euro"],
  ["Japan", "Tokyo", "Asia", "Japanese", "Yen"],
  ["Kenya", "Nairobi", "Africa", "Swahili", "Kenyan shilling"],
  ["Peru", "Lima", "South America", "Spanish", "Sol"],
  ["Canada", "Ottawa", "North America", "English", "Canadian dollar"],
  ["Luxembourg", "Luxembourg", "Europe", "Luxembourgish", "Euro"],
  ["Mexico", "Mexico City", "North America", "Spanish", "Mexican peso"],
  ["Egypt", "Cairo", "Africa", "Arabic", "Egyptian pound"],
  ["Norway", "Oslo", "Europe", "Norwegian", "Norwegian krone"],
  ["Chile", "Santiago", "South America", "Spanish", "Chilean peso"],
  ["India", "New Delhi", "Asia", "Hindi", "Indian rupee"],
  ["Australia", "Canberra", "Oceania", "English", "Australian dollar"],
  ["Brazil", "Brasília", "South America", "Portuguese", "Brazilian real"],
  ["Italy", "Rome", "Europe", "Italian", "Euro"],
  ["Spain", "Madrid", "Europe", "Spanish", "Euro"],
];

const ELEMENTS: [string, string, number, string, string][] = [
  ["Hydrogen", "H", 1, "gas", "1766"],
  ["Helium", "He", 2, "gas", "1868"],
  ["Carbon", "C", 6, "solid", "ancient"],
  ["Oxygen", "O", 8, "gas", "1774"],
  ["Iron", "Fe", 26, "solid", "ancient"],
  ["Mercury", "Hg", 80, "liquid", "ancient"],
  ["Iodine", "I", 53, "solid", "1811"],
  ["Bromine", "Br", 35, "liquid", "1826"],
  ["Neon", "Ne", 10, "gas", "1898"],
  ["Gold", "Au", 79, "solid", "ancient"],
];

const PEOPLE: [string, number, number][] = [
  ["Charles Darwin", 1809, 1882],
  ["Isaac Newton", 1643, 1727],
  ["Marie Curie", 1867, 1934],
  ["Albert Einstein", 1879, 1955],
  ["Jane Austen", 1775, 1817],
  ["Abraham Lincoln", 1809, 1865],
  ["Ada Lovelace", 1815, 1852],
  ["Galileo Galilei", 1564, 1642],
];

const CITIES: [string, string][] = [
  ["Lyon", "France"],
  ["Osaka", "Japan"],
  ["Munich", "Germany"],
  ["Kuwait City", "Kuwait"],
  ["Mombasa", "Kenya"],
  ["Cusco", "Peru"],
  ["Toronto", "Canada"],
  ["Milan", "Italy"],
];

export function fixtureKnowledge(): KnowledgeBase {
  const entities: Entity[] = [
    ...COUNTRIES.map(([name, capital, continent, language, currency]) =>
      entity("country", name, [
        ["capital", capital],
        ["continent", continent],
        ["language", language],
        ["currency", currency],
      ]),
    ),
    ...ELEMENTS.map(([name, symbol, z, state, year]) =>
      entity("element", name, [
        ["symbol", symbol],
        ["atomic-number", String(z)],
        ["standard-state", state],
        ["year-discovered", year],
      ]),
    ),
    ...PEOPLE.map(([name, born, died]) =>
      entity("person", name, [
        ["birth-year", String(born)],
        ["death-year", String(died)],
        ["description", "a person"],
      ]),
    ),
    ...CITIES.map(([name, country]) => entity("city", name, [["country", country]])),
  ];
  entities.sort((a, b) => (a.key < b.key ? -1 : 1));
  return { entities, sources: [{ name: "fixture", entities: entities.length, facts: 0 }] };
}

/** Mention counts spread over every bucket: entity i gets counts cycling 0, 1, 2, 5, 10, 20, 40. */
export function fixtureMentions(kb: KnowledgeBase): MentionCounts {
  const levels = [0, 1, 2, 5, 10, 20, 40];
  const counts: Record<string, number> = {};
  kb.entities.forEach((e, i) => {
    counts[e.key] = levels[i % levels.length]!;
  });
  return { counts, pages: { written: 0, kept: 0, train: 0 } };
}

export const FIXTURE_IDENTITY: IdentityFacts = {
  family: "gpt2",
  params: 1_900_000,
  layers: 4,
  contextLength: 256,
  data: "State of the Union addresses, Moby-Dick, mail and knowledge pages",
  tokens: 12_400_000,
};

export function fixtureContext(seed = 1): TaskContext {
  const knowledge = fixtureKnowledge();
  return { seed, knowledge, identity: FIXTURE_IDENTITY, mentions: fixtureMentions(knowledge) };
}

/**
 * A larger made-up knowledge base (for split and sampling tests): `n` countries and `n`
 * people with invented names and facts, and mention counts over every bucket.
 */
export function syntheticContext(n: number, seed = 1): TaskContext {
  const entities: Entity[] = [];
  for (let i = 0; i < n; i++) {
    entities.push(
      entity("country", `Land${i}`, [
        ["capital", `Town${i}`],
        ["continent", ["Europe", "Asia", "Africa"][i % 3]!],
      ]),
    );
    entities.push(
      entity("person", `Person${i}`, [
        ["birth-year", String(1500 + i)],
        ["death-year", String(1560 + i)],
      ]),
    );
  }
  entities.sort((a, b) => (a.key < b.key ? -1 : 1));
  const knowledge = {
    entities,
    sources: [{ name: "synthetic", entities: entities.length, facts: 0 }],
  };
  return { seed, knowledge, identity: FIXTURE_IDENTITY, mentions: fixtureMentions(knowledge) };
}
