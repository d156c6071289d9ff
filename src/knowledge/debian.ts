/**
 * The knowledge bases in Debian packages, read only when asked for (`loadKnowledge({ debian:
 * true })`); each missing file is a UserError naming the package to install.
 *
 * - `bsdgames`: the quiz(6) files — country capitals (africa, america, asia, europe), US states
 *   with their capitals (state) and the elements (symbol, number); every spelling the answer
 *   syntax allows becomes an alias.
 * - `kgeography-data`: the regions of 154 maps, each with its capital and the map it is part of.
 * - `dict-elements`: the dictd database of elements (symbol, atomic number).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { UserError } from "../util/errors.js";
import { clean, type RawEntity } from "./names.js";
import { expandQuiz, quizLines, splitQuizFields } from "./quiz-syntax.js";

export const QUIZ_DIR = "/usr/share/games/bsdgames/quiz";
export const KGEOGRAPHY_DIR = "/usr/share/kgeography";
export const ELEMENTS_DICT = "/usr/share/dictd/elements.dict.dz";

function need(path: string, pkg: string): void {
  if (!existsSync(path)) {
    throw new UserError(
      `${path} not found: the Debian package ${pkg} is not installed`,
      `run \`apt-get install ${pkg}\`, or load the knowledge base without the Debian sources`,
    );
  }
}

/** Name and aliases from an expanded quiz field. */
function nameOf(field: string): { name: string; aliases: string[] } {
  const [name = "", ...aliases] = expandQuiz(field);
  return { name, aliases };
}

export function readBsdQuiz(dir = QUIZ_DIR): RawEntity[] {
  const out: RawEntity[] = [];
  const read = (file: string) => {
    const p = join(dir, file);
    need(p, "bsdgames");
    return quizLines(readFileSync(p, "utf8")).map(splitQuizFields);
  };
  for (const file of ["africa", "america", "asia", "europe"]) {
    for (const [country, capital] of read(file)) {
      if (!country || !capital) continue;
      const c = nameOf(country);
      const cap = nameOf(capital);
      out.push({
        kind: "country",
        ...c,
        facts: [{ relation: "capital", value: cap.name, aliases: cap.aliases }],
      });
    }
  }
  for (const [state, capital, abbrev] of read("state")) {
    if (!state || !capital) continue;
    const s = nameOf(state);
    const cap = nameOf(capital);
    out.push({
      kind: "region",
      name: s.name,
      aliases: [...s.aliases, ...(abbrev ? expandQuiz(abbrev) : [])],
      facts: [
        { relation: "capital", value: cap.name, aliases: cap.aliases },
        {
          relation: "part-of",
          value: "United States",
          aliases: ["USA", "United States of America"],
        },
      ],
    });
  }
  for (const [symbol, number, , element] of read("elements")) {
    if (!symbol || !number || !element) continue;
    const e = nameOf(element);
    out.push({
      kind: "element",
      ...e,
      facts: [
        { relation: "symbol", value: expandQuiz(symbol)[0] ?? "" },
        { relation: "atomic-number", value: expandQuiz(number)[0] ?? "" },
      ],
    });
  }
  return out;
}

function decodeXml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, "&");
}

const tag = (block: string, name: string) => {
  const m = block.match(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`));
  return m ? clean(decodeXml(m[1]!)) : "";
};

/** A map's name without its qualifier: "France (Regions)" → "France", "Portugal Districts" → "Portugal". */
export function mapPlace(mapName: string): string {
  return clean(
    mapName
      .replace(/\s*\([^)]*\)\s*/g, " ")
      .replace(
        /\b(districts?|regions?|provinces?|prefectures?|departments?|counties|states|subjects|municipalities|cantons|zones|peripheries|comarques|traditional)\b/gi,
        "",
      ),
  );
}

export function readKgeography(dir = KGEOGRAPHY_DIR): RawEntity[] {
  need(dir, "kgeography-data");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".kgm"))
    .sort();
  if (files.length === 0) need(join(dir, "world.kgm"), "kgeography-data");
  const out: RawEntity[] = [];
  for (const f of files) {
    const xml = readFileSync(join(dir, f), "utf8");
    const first = xml.indexOf("<division>");
    const mapName = tag(first < 0 ? xml : xml.slice(0, first), "name");
    const place = mapPlace(mapName);
    for (const m of xml.matchAll(/<division>([\s\S]*?)<\/division>/g)) {
      const block = m[1]!;
      if (/<ignore>\s*(yes|allowClickMode)\s*<\/ignore>/.test(block)) continue;
      const name = tag(block, "name");
      const capital = tag(block, "capital");
      if (!name || !capital) continue;
      out.push({
        kind: "region",
        name,
        facts: [
          { relation: "capital", value: capital },
          { relation: "part-of", value: place },
        ],
      });
    }
  }
  return out;
}

export function readDictElements(path = ELEMENTS_DICT): RawEntity[] {
  need(path, "dict-elements");
  const text = gunzipSync(readFileSync(path)).toString("utf8");
  const out: RawEntity[] = [];
  for (const m of text.matchAll(/^([a-z][a-z ]*)\nSymbol: *(\S+)\nAtomic number: *(\d+)/gm)) {
    const name = m[1]!.trim();
    out.push({
      kind: "element",
      name: name[0]!.toUpperCase() + name.slice(1),
      facts: [
        { relation: "symbol", value: m[2]! },
        { relation: "atomic-number", value: m[3]! },
      ],
    });
  }
  return out;
}
