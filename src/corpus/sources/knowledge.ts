/**
 * The `knowledge` source: encyclopedia-like web pages rendered from the knowledge base
 * (`src/knowledge`), with a long-tailed, recorded number of pages per entity.
 *
 * How often each entity is mentioned is drawn first: the entity of rank r gets about
 * (N/r)^(1/α) pages (α = 1.5: about a dozen entities on 50+ pages, two thirds on one), and
 * every kind spans the whole curve (see `drawMentions`). Pages are then packed around an anchor entity
 * drawn in proportion to the pages it still needs, joined by others of its kind and theme
 * (countries of one continent, cities of one country, people born in one century, elements of
 * one state) so that no two pages are alike: several layouts (profiles, lists, "did you know",
 * comparisons, questions and answers), sentence templates picked without repeats within a
 * page, facts in shuffled order, and prose around them that depends on the theme. Four sites
 * with their own navigation and boilerplate publish them.
 *
 * Every page carries what it states (`stated`): the entities, the name it calls them by and
 * the facts with the value written; `build.ts` writes these lines to `knowledge-pages.ndjson`,
 * which `data tokenize` reads to count mentions as they reach the shards.
 */
import { loadKnowledge } from "../../knowledge/load.js";
import type { Entity, EntityKind, Fact, KnowledgeBase, Relation } from "../../knowledge/types.js";
import { Rng } from "../../tensor/rng.js";
import { escapeXml } from "../../util/xml.js";
import { type CorpusDoc, encoder, renderPage, slug } from "../document.js";

export const KNOWLEDGE_SOURCE = "knowledge";
/** Bumped when the pages change (part of the corpus's config hash). */
export const KNOWLEDGE_VERSION = 2;
/**
 * The sidecar in the corpus folder: one JSON line per knowledge page written. Not `.jsonl`,
 * which `data run` would take for an input when it reads the whole corpus folder.
 */
export const KNOWLEDGE_PAGES_FILE = "knowledge-pages.ndjson";

export interface StatedEntity {
  key: string;
  /** The name the page calls it by (every line stating a fact contains it). */
  name: string;
  facts: { relation: Relation; value: string }[];
}

/** One line of knowledge-pages.ndjson. */
export interface KnowledgePageRecord {
  url: string;
  entities: StatedEntity[];
}

export interface KnowledgeDoc extends CorpusDoc {
  stated: KnowledgePageRecord;
}

export interface KnowledgeSourceOptions {
  /** Seed of the mention draw and of the pages (default 1). */
  seed?: number;
  /** Zipf exponent of the page counts (default 1.5). */
  alpha?: number;
  /** No entity on more pages than this (default 150). */
  maxPages?: number;
  /** The knowledge base (default: `loadKnowledge()`, the npm sources). */
  kb?: KnowledgeBase;
}

const DEFAULTS = { seed: 1, alpha: 1.5, maxPages: 150 };

/**
 * The planned number of pages per entity (every entity at least one). Deterministic for a seed.
 * Counts follow the curve (N / rank)^(1/α) over all N entities, and each kind of entity spans
 * the whole curve: within a kind, entities are put in a seeded random order and the one at
 * quantile q gets the count of global rank q·N. So every kind has its few famous entities and
 * its long tail, and a mention-count bucket holds the kinds in the same proportions — the
 * knowledge-by-mentions measurement compares like with like (a country's capital is not
 * easier or harder to guess than a person's birth year because countries were made famous).
 */
export function drawMentions(
  entities: Entity[],
  seed = DEFAULTS.seed,
  alpha = DEFAULTS.alpha,
  maxPages = DEFAULTS.maxPages,
): Map<string, number> {
  const rng = new Rng(seed * 7919 + 17);
  const n = entities.length;
  const byKind = new Map<EntityKind, { key: string; r: number }[]>();
  for (const e of entities) {
    let list = byKind.get(e.kind);
    if (!list) byKind.set(e.kind, (list = []));
    list.push({ key: e.key, r: rng.uniform() });
  }
  const out = new Map<string, number>();
  for (const kind of [...byKind.keys()].sort()) {
    const list = byKind.get(kind)!;
    list.sort((a, b) => a.r - b.r || (a.key < b.key ? -1 : 1));
    list.forEach((e, i) => {
      const rank = Math.floor((i * n) / list.length);
      out.set(e.key, Math.max(1, Math.min(maxPages, Math.floor((n / (rank + 1)) ** (1 / alpha)))));
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// sentences

type Template = (n: string, v: string, f: Fact) => string;

const article = (s: string) => (/^([aeio]|u(?!ni|s|k)|hei|hon)/i.test(s) ? "an" : "a");

const SENTENCES: Record<Relation, Template[]> = {
  capital: [
    (n, v) => `The capital of ${n} is ${v}.`,
    (n, v) => `${v} is the capital city of ${n}.`,
    (n, v) => `${n} has its capital at ${v}.`,
    (n, v) => `The seat of government of ${n} is ${v}, its capital.`,
    (n, v) => `Visitors to ${n} often start in ${v}, the capital.`,
  ],
  continent: [
    (n, v) => `${n} is a country in ${v}.`,
    (n, v) => `${n} lies in ${v}.`,
    (n, v) => `${n} is located on the continent of ${v}.`,
    (n, v) => `Geographically, ${n} belongs to ${v}.`,
  ],
  language: [
    (n, v) => `The main language of ${n} is ${v}.`,
    (n, v) => `Most people in ${n} speak ${v}.`,
    (n, v) => `${v} is the principal language spoken in ${n}.`,
    (n, v) => `In ${n}, the most widely used language is ${v}.`,
  ],
  currency: [
    (n, v) => `The currency of ${n} is the ${v}.`,
    (n, v) => `${n} uses the ${v} as its currency.`,
    (n, v) => `Prices in ${n} are given in the ${v}.`,
    (n, v, f) =>
      f.aliases[0]
        ? `The money of ${n} is the ${v}, abbreviated ${f.aliases[0]}.`
        : `The money of ${n} is the ${v}.`,
  ],
  symbol: [
    (n, v) => `The chemical symbol of ${n} is ${v}.`,
    (n, v) => `${n} is written ${v} in chemical formulas.`,
    (n, v) => `${v} is the symbol for ${n}.`,
    (n, v) => `${n} has the symbol ${v}.`,
  ],
  "atomic-number": [
    (n, v) => `${n} has the atomic number ${v}.`,
    (n, v) => `The atomic number of ${n} is ${v}.`,
    (n, v) => `Each atom of ${n} has ${v} protons in its nucleus.`,
    (n, v) => `${n} is element number ${v} of the periodic table.`,
  ],
  "standard-state": [
    (n, v) => `At room temperature ${n} is ${article(v)} ${v}.`,
    (n, v) => `${n} is ${article(v)} ${v} under standard conditions.`,
    (n, v) => `In its standard state, ${n} is ${article(v)} ${v}.`,
  ],
  "year-discovered": [
    (n, v) => `${n} was discovered in ${v}.`,
    (n, v) => `The discovery of ${n} dates from ${v}.`,
    (n, v) => `Chemists first identified ${n} in ${v}.`,
    (n, v) => `${n} was first isolated and described in ${v}.`,
  ],
  "birth-year": [
    (n, v) => `${n} was born in ${v}.`,
    (n, v) => `The year of birth of ${n} was ${v}.`,
    (n, v) => `${n} came into the world in ${v}.`,
  ],
  "death-year": [
    (n, v) => `${n} died in ${v}.`,
    (n, v) => `${n} passed away in ${v}.`,
    (n, v) => `The death of ${n} came in ${v}.`,
  ],
  description: [
    (n, v) => `${n} was ${article(v)} ${v}.`,
    (n, v) => `${n} is remembered as ${article(v)} ${v}.`,
    (n, v) => `Historians describe ${n} as ${article(v)} ${v}.`,
    (n, v) => `Today ${n} is best known as ${article(v)} ${v}.`,
  ],
  country: [
    (n, v) => `${n} is a city in ${v}.`,
    (n, v) => `${n} is one of the large cities of ${v}.`,
    (n, v) => `The city of ${n} lies in ${v}.`,
    (n, v) => `${n} is located in ${v}.`,
  ],
  "part-of": [
    (n, v) => `${n} is a region of ${v}.`,
    (n, v) => `${n} is part of ${v}.`,
    (n, v) => `${n} is one of the divisions of ${v}.`,
  ],
};

const QUESTIONS: Record<Relation, ((n: string) => string)[]> = {
  capital: [
    (n) => `What is the capital of ${n}?`,
    (n) => `Which city is the capital of ${n}?`,
    (n) => `Where is the government of ${n} based?`,
  ],
  continent: [(n) => `Where is ${n}?`, (n) => `On which continent is ${n}?`],
  language: [(n) => `What language is spoken in ${n}?`, (n) => `What do people speak in ${n}?`],
  currency: [(n) => `What money is used in ${n}?`, (n) => `What is the currency of ${n}?`],
  symbol: [(n) => `What is the symbol of ${n}?`, (n) => `How is ${n} written in formulas?`],
  "atomic-number": [
    (n) => `What is the atomic number of ${n}?`,
    (n) => `How many protons does ${n} have?`,
  ],
  "standard-state": [
    (n) => `Is ${n} a solid, a liquid or a gas?`,
    (n) => `What state is ${n} in at room temperature?`,
  ],
  "year-discovered": [(n) => `When was ${n} discovered?`, (n) => `How long has ${n} been known?`],
  "birth-year": [(n) => `When was ${n} born?`, (n) => `In what year was ${n} born?`],
  "death-year": [(n) => `When did ${n} die?`, (n) => `How long did ${n} live?`],
  description: [(n) => `Who was ${n}?`, (n) => `What is ${n} known for?`],
  country: [
    (n) => `In which country is ${n}?`,
    (n) => `Where is ${n}?`,
    (n) => `Which country does ${n} belong to?`,
  ],
  "part-of": [(n) => `What is ${n} part of?`, (n) => `Where is ${n}?`],
};

/** Sentences about an entity that state none of its facts, to vary the text around them. */
const FILLERS: Record<EntityKind, ((n: string) => string)[]> = {
  country: [
    (n) => `Travel writers have a great deal to say about ${n}.`,
    (n) => `The history of ${n} fills many books.`,
    (n) => `Schoolchildren often learn about ${n} in their geography lessons.`,
    (n) => `Maps of ${n} are among the most requested on this site.`,
  ],
  city: [
    (n) => `Many visitors pass through ${n} every year.`,
    (n) => `${n} has grown quickly in recent decades.`,
    (n) => `Local guides describe ${n} as busy and lively.`,
    (n) => `The streets of ${n} are full of markets and shops.`,
  ],
  region: [
    (n) => `${n} has its own local traditions.`,
    (n) => `Maps of ${n} show towns, rivers and roads.`,
  ],
  element: [
    (n) => `Chemistry students meet ${n} early in their studies.`,
    (n) => `The properties of ${n} are described in every chemistry textbook.`,
    (n) => `Laboratories around the world study ${n} and its compounds.`,
    (n) => `${n} has a place in every printed periodic table.`,
  ],
  person: [
    (n) => `Biographies of ${n} are still read today.`,
    (n) => `The life of ${n} has been the subject of several studies.`,
    (n) => `Students of history often come across the name of ${n}.`,
    (n) => `Many readers first heard of ${n} at school.`,
  ],
};

/** Picks templates of a relation without repeats within a page (until all were used). */
class TemplateDeck {
  readonly #left = new Map<string, number[]>();
  constructor(readonly rng: Rng) {}
  #next(key: string, n: number): number {
    let left = this.#left.get(key);
    if (!left || left.length === 0) {
      left = shuffle(
        Array.from({ length: n }, (_, i) => i),
        this.rng,
      );
      this.#left.set(key, left);
    }
    return left.pop()!;
  }
  sentence(f: Fact, name: string): string {
    const all = SENTENCES[f.relation];
    return all[this.#next(f.relation, all.length)]!(name, f.value, f);
  }
  question(f: Fact, name: string): string {
    const all = QUESTIONS[f.relation];
    return all[this.#next(`q:${f.relation}`, all.length)]!(name);
  }
  filler(e: Entity): string {
    const all = FILLERS[e.kind];
    return all[this.#next(`f:${e.kind}`, all.length)]!(e.name);
  }
}

function shuffle<T>(a: T[], rng: Rng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const pick = <T>(a: readonly T[], rng: Rng): T => a[rng.int(a.length)]!;

// ---------------------------------------------------------------------------------------------
// themes and prose

/** The group an entity is written about with: its continent, country, century or state. */
function groupOf(e: Entity): string {
  const v = (r: Relation) => e.facts.find((f) => f.relation === r)?.value;
  switch (e.kind) {
    case "country":
      return v("continent") ?? "the world";
    case "city":
      return v("country") ?? "the world";
    case "region":
      return v("part-of") ?? "the world";
    case "element":
      return v("standard-state") ?? "synthetic";
    case "person": {
      const b = Number(v("birth-year"));
      return Number.isFinite(b) ? ordinalCentury(b) : "history";
    }
  }
}

function ordinalCentury(year: number): string {
  const c = Math.floor((year - 1) / 100) + 1;
  const suffix =
    c % 10 === 1 && c !== 11
      ? "st"
      : c % 10 === 2 && c !== 12
        ? "nd"
        : c % 10 === 3 && c !== 13
          ? "rd"
          : "th";
  return `the ${c}${suffix} century`;
}

const KIND_PLURAL: Record<EntityKind, string> = {
  country: "countries",
  element: "chemical elements",
  person: "notable people",
  city: "cities",
  region: "regions",
};

function themeLabel(kind: EntityKind, group: string): string {
  switch (kind) {
    case "country":
      return `countries of ${group}`;
    case "city":
      return `cities of ${group}`;
    case "region":
      return `regions of ${group}`;
    case "element":
      return group === "synthetic" ? "synthetic elements" : `elements that are ${group}s`;
    case "person":
      return `people born in ${group}`;
  }
}

const INTROS: ((t: string) => string)[] = [
  (t) => `This page collects short notes on ${t}, written for students and curious readers.`,
  (t) => `Here we have gathered a few basic facts about ${t}, checked against standard references.`,
  (t) =>
    `Our editors put together this overview of ${t} to answer the questions readers ask most often.`,
  (t) => `If you are looking for quick facts about ${t}, the entries below should help.`,
  (t) => `What follows is a brief guide to ${t}, with the essentials for each entry.`,
  (t) => `Teachers asked us for a simple summary of ${t}, and this is the result.`,
  (t) => `The notes below cover ${t} and were updated for the current edition of our reference.`,
];
const INTRO_EXTRA = [
  "Each entry can be read on its own, and the order does not matter.",
  "We keep the language plain, so the page is easy to use in a classroom.",
  "Facts like these are a good starting point for homework, quizzes and travel planning.",
  "Please tell us if you find a mistake, and we will correct it in the next revision.",
  "The entries are short on purpose; longer articles are linked from our index.",
  "Many readers print this page and keep it next to their atlas or textbook.",
];
const OUTROS = [
  "That is all for this overview, and more pages on related topics are in our archive.",
  "We hope these notes were useful, and we add new entries every month.",
  "If you enjoyed this page, you may also like our other short guides.",
  "These facts are a summary, and a good library has much more to say about each of them.",
  "Thank you for reading, and do come back when you have another question.",
  "Our readers suggested several of these entries, so keep your suggestions coming.",
];

const TRIVIA_OPENERS = [
  "Did you know?",
  "Here is one to remember.",
  "A fact worth knowing.",
  "Quiz night tip.",
  "Something to share.",
];

// ---------------------------------------------------------------------------------------------
// sites

interface Site {
  name: string;
  host: string;
  nav: string[];
  section: Record<EntityKind, string>;
}

const SITES: Site[] = [
  {
    name: "World Atlas Notes",
    host: "atlas-notes.example",
    nav: ["Countries", "Cities", "Maps", "Quizzes", "About"],
    section: {
      country: "countries",
      city: "cities",
      region: "regions",
      element: "science",
      person: "people",
    },
  },
  {
    name: "The Student Reference Desk",
    host: "reference-desk.example",
    nav: ["Geography", "Science", "History", "Homework Help"],
    section: {
      country: "geography",
      city: "geography",
      region: "geography",
      element: "science",
      person: "history",
    },
  },
  {
    name: "Curious Facts Daily",
    host: "curious-facts.example",
    nav: ["Today", "Archive", "Trivia", "Newsletter"],
    section: {
      country: "places",
      city: "places",
      region: "places",
      element: "things",
      person: "lives",
    },
  },
  {
    name: "Open Encyclopedia Project",
    host: "open-encyclopedia.example",
    nav: ["Main page", "Contents", "Random article", "Help"],
    section: { country: "wiki", city: "wiki", region: "wiki", element: "wiki", person: "wiki" },
  },
];

// ---------------------------------------------------------------------------------------------
// planning

type Layout = "profiles" | "list" | "trivia" | "compare" | "faq";

export interface PagePlan {
  index: number;
  layout: Layout;
  kind: EntityKind;
  group: string;
  entities: Entity[];
}

/** Distributes the drawn page counts over pages; deterministic for a seed. */
export function planPages(kb: KnowledgeBase, o: KnowledgeSourceOptions = {}): PagePlan[] {
  const seed = o.seed ?? DEFAULTS.seed;
  const draw = drawMentions(kb.entities, seed, o.alpha, o.maxPages);
  const rng = new Rng(seed * 104729 + 3);
  const ents = kb.entities.filter((e) => (draw.get(e.key) ?? 0) > 0);
  const left = ents.map((e) => draw.get(e.key) ?? 0);
  const byGroup = new Map<string, number[]>();
  const byKind = new Map<EntityKind, number[]>();
  ents.forEach((e, i) => {
    const g = `${e.kind}|${groupOf(e)}`;
    (byGroup.get(g) ?? byGroup.set(g, []).get(g)!).push(i);
    (byKind.get(e.kind) ?? byKind.set(e.kind, []).get(e.kind)!).push(i);
  });
  // a Fenwick tree over the remaining counts draws the anchor in proportion to them
  const n = ents.length;
  const tree = new Float64Array(n + 1);
  const addAt = (i: number, d: number) => {
    for (let x = i + 1; x <= n; x += x & -x) tree[x]! += d;
  };
  left.forEach((c, i) => {
    addAt(i, c);
  });
  let total = left.reduce((a, b) => a + b, 0);
  const findAt = (target: number) => {
    let p = 0;
    let step = 1;
    while (step * 2 <= n) step *= 2;
    for (; step > 0; step >>= 1) {
      if (p + step <= n && tree[p + step]! <= target) {
        p += step;
        target -= tree[p]!;
      }
    }
    return Math.min(p, n - 1);
  };
  const take = (i: number) => {
    if (left[i]! > 0) {
      left[i]!--;
      addAt(i, -1);
      total--;
    }
  };
  const plans: PagePlan[] = [];
  while (total > 0) {
    const a = findAt(rng.uniform() * total);
    const anchor = ents[a]!;
    const kind = anchor.kind;
    const layout: Layout = pick(
      kind === "person"
        ? (["profiles", "profiles", "list", "trivia", "faq", "compare"] as const)
        : kind === "city"
          ? (["list", "list", "profiles", "trivia", "compare"] as const)
          : (["profiles", "list", "trivia", "compare", "faq"] as const),
      rng,
    );
    const size =
      layout === "compare" ? 2 + rng.int(2) : layout === "trivia" ? 6 + rng.int(4) : 4 + rng.int(5);
    const chosen = [a];
    const seen = new Set(chosen);
    const addFrom = (pool: number[], needLeft: boolean) => {
      const cands = pool.filter((i) => !seen.has(i) && (!needLeft || left[i]! > 0));
      // prefer those with the most pages still to place, with some randomness
      const scored = cands.map((i) => ({ i, s: (left[i]! + 1) * rng.uniform() }));
      scored.sort((x, y) => y.s - x.s);
      for (const { i } of scored) {
        if (chosen.length >= size) break;
        chosen.push(i);
        seen.add(i);
      }
    };
    const group = groupOf(anchor);
    if (layout === "trivia") {
      // a mixed page: sample anchors of any kind
      for (let tries = 0; chosen.length < size && tries < 40 && total > chosen.length; tries++) {
        const i = findAt(rng.uniform() * total);
        if (!seen.has(i) && left[i]! > 0) {
          chosen.push(i);
          seen.add(i);
        }
      }
    } else {
      addFrom(byGroup.get(`${kind}|${group}`) ?? [], true);
      if (chosen.length < size) addFrom(byKind.get(kind) ?? [], true);
      // too few entities left to place: fill with already-placed ones of the same group
      if (chosen.length < Math.min(size, 3)) addFrom(byGroup.get(`${kind}|${group}`) ?? [], false);
      if (chosen.length < Math.min(size, 3)) addFrom(byKind.get(kind) ?? [], false);
    }
    for (const i of chosen) take(i);
    plans.push({
      index: plans.length,
      layout,
      kind,
      group,
      entities: chosen.map((i) => ents[i]!),
    });
  }
  return plans;
}

// ---------------------------------------------------------------------------------------------
// rendering

const p = (s: string) => `<p>${escapeXml(s)}</p>`;

/** The facts a layout states for an entity (a shuffled subset, never empty). */
function chooseFacts(e: Entity, layout: Layout, rng: Rng): Fact[] {
  const facts = shuffle([...e.facts], rng);
  const n =
    layout === "trivia"
      ? Math.min(facts.length, 1 + rng.int(2))
      : layout === "list"
        ? Math.min(facts.length, 1 + rng.int(3))
        : layout === "faq"
          ? Math.min(facts.length, 1 + rng.int(3))
          : Math.max(1, facts.length - rng.int(2));
  return facts.slice(0, n);
}

const DATES = (rng: Rng) =>
  `${2015 + rng.int(10)}-${String(1 + rng.int(12)).padStart(2, "0")}-${String(1 + rng.int(28)).padStart(2, "0")}`;

/** Renders one planned page. */
export function renderKnowledgePage(plan: PagePlan, seed = DEFAULTS.seed): KnowledgeDoc {
  const rng = new Rng(seed * 65537 + plan.index * 2 + 1);
  const site = plan.layout === "trivia" ? SITES[2]! : pick(SITES, rng);
  const deck = new TemplateDeck(rng);
  const theme =
    plan.layout === "trivia" ? "a little of everything" : themeLabel(plan.kind, plan.group);
  const stated: StatedEntity[] = [];
  const blocks: string[] = [];
  const date = DATES(rng);
  blocks.push(
    `<p class="meta">Updated ${date} by the editors of ${escapeXml(site.name)} · ${2 + rng.int(6)} min read</p>`,
  );
  const intro = [pick(INTROS, rng)(theme)];
  for (const x of shuffle([...INTRO_EXTRA], rng).slice(0, 1 + rng.int(2))) intro.push(x);
  blocks.push(p(intro.join(" ")));
  const ents = shuffle([...plan.entities], rng);
  const statedFacts = ents.map((e) => chooseFacts(e, plan.layout, rng));
  const sentencesOf = (e: Entity, facts: Fact[], filler = 0) => {
    const out = facts.map((f) => deck.sentence(f, e.name));
    if (rng.uniform() < filler) out.splice(rng.int(out.length + 1), 0, deck.filler(e));
    return out;
  };
  switch (plan.layout) {
    case "profiles":
      ents.forEach((e, i) => {
        blocks.push(
          `<h2>${escapeXml(e.name)}</h2>`,
          p(sentencesOf(e, statedFacts[i]!, 0.8).join(" ")),
        );
      });
      break;
    case "list":
      blocks.push(
        `<ul>${ents.map((e, i) => `<li>${escapeXml(sentencesOf(e, statedFacts[i]!, 0.5).join(" "))}</li>`).join("")}</ul>`,
      );
      break;
    case "trivia":
      blocks.push(
        `<ul>${ents
          .map(
            (e, i) =>
              `<li>${escapeXml(`${pick(TRIVIA_OPENERS, rng)} ${sentencesOf(e, statedFacts[i]!).join(" ")}`)}</li>`,
          )
          .join("")}</ul>`,
      );
      break;
    case "compare": {
      const names = ents.map((e) => e.name);
      const joined = `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
      blocks.push(
        p(
          `${pick(
            [
              `Readers often confuse ${joined}, so here they are side by side.`,
              `A common classroom exercise is to compare ${joined}.`,
              `How do ${joined} differ? The short answer is below.`,
            ],
            rng,
          )}`,
        ),
      );
      ents.forEach((e, i) => {
        blocks.push(p(sentencesOf(e, statedFacts[i]!, 0.6).join(" ")));
      });
      break;
    }
    case "faq":
      ents.forEach((e, i) => {
        const facts = statedFacts[i]!;
        blocks.push(
          `<h3>${escapeXml(deck.question(facts[0]!, e.name))}</h3>`,
          p(sentencesOf(e, facts, 0.6).join(" ")),
        );
      });
      break;
  }
  blocks.push(
    p(
      shuffle([...OUTROS], rng)
        .slice(0, 1 + rng.int(2))
        .join(" "),
    ),
  );
  ents.forEach((e, i) => {
    stated.push({
      key: e.key,
      name: e.name,
      facts: statedFacts[i]!.map((f) => ({ relation: f.relation, value: f.value })),
    });
  });
  const titleTheme = theme[0]!.toUpperCase() + theme.slice(1);
  const title =
    plan.layout === "compare"
      ? `${ents.map((e) => e.name).join(" vs. ")}: a comparison`
      : plan.layout === "trivia"
        ? `Did you know? ${pick(["Ten", "Some", "A few", "More"], rng)} facts for ${date}`
        : plan.layout === "faq"
          ? `${titleTheme}: questions and answers`
          : plan.layout === "list"
            ? `${titleTheme} at a glance`
            : `${titleTheme}: ${KIND_PLURAL[plan.kind]} in brief`;
  const section = site.section[plan.kind];
  const url = `https://${site.host}/${section}/${slug(title)}-${plan.index}.html`;
  const html = renderPage({ site: site.name, title, nav: site.nav, mainHtml: blocks.join("\n") });
  return {
    url,
    contentType: "text/html; charset=utf-8",
    body: encoder.encode(html),
    source: KNOWLEDGE_SOURCE,
    date: `${date}T10:00:00Z`,
    stated: { url, entities: stated },
  };
}

/** The knowledge pages, in plan order. */
export async function* knowledgeSource(
  o: KnowledgeSourceOptions = {},
): AsyncGenerator<KnowledgeDoc> {
  const kb = o.kb ?? loadKnowledge();
  for (const plan of planPages(kb, o)) yield renderKnowledgePage(plan, o.seed ?? DEFAULTS.seed);
}

/** How many pages the source writes (for progress totals). */
export function knowledgeCount(o: KnowledgeSourceOptions = {}): number {
  return planPages(o.kb ?? loadKnowledge(), o).length;
}

export function isKnowledgeDoc(d: CorpusDoc): d is KnowledgeDoc {
  return (d as Partial<KnowledgeDoc>).stated !== undefined;
}

/**
 * The entities whose facts a text still states, as `data tokenize` counts them: an entity
 * counts when one line of the text contains both its name (as the page wrote it) and the value
 * of one of the facts the page stated. Lines are what the extractor made of paragraphs and
 * list items, and what C4 and FineWeb keep or drop whole.
 */
export function statedEntities(text: string, record: KnowledgePageRecord): string[] {
  const lines = text.split("\n");
  const out: string[] = [];
  for (const e of record.entities) {
    const ok = lines.some((l) => l.includes(e.name) && e.facts.some((f) => l.includes(f.value)));
    if (ok) out.push(e.key);
  }
  return out;
}
