/**
 * Countries from npm `countries-list` (ISO 3166-1 entries): capital, continent (as a name),
 * main language (the first listed, by name) and main currency (the first listed, by name, its
 * ISO code as an alias).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { UserError } from "../util/errors.js";
import { buildEntities, type RawEntity } from "./names.js";
import type { Entity } from "./types.js";

const require = createRequire(import.meta.url);

export const COUNTRIES_SOURCE = "countries-list";

interface RawCountry {
  name: string;
  native: string;
  alias?: string[];
  continent: string;
  capital: string;
  currency: string[];
  languages: string[];
}

/** A data file at the package's root (its `exports` field hides them from `require`). */
function load<T>(file: string): T {
  try {
    const root = dirname(dirname(require.resolve("countries-list")));
    return JSON.parse(readFileSync(join(root, file), "utf8")) as T;
  } catch {
    throw new UserError(`cannot read countries-list/${file}`, "run `npm ci` first");
  }
}

/** ISO 3166-1 alpha-2 code → country name (also what city records refer to). */
export function countryNames(): Map<string, string> {
  const all = load<Record<string, RawCountry>>("countries.min.json");
  return new Map(Object.entries(all).map(([code, c]) => [code, c.name]));
}

const LATIN = /^[\p{Script=Latin}\s'.,-]+$/u;

export function readCountries(): Entity[] {
  const all = load<Record<string, RawCountry>>("countries.min.json");
  const continents = load<Record<string, string>>("continents.min.json");
  const languages = load<Record<string, { name: string }>>("languages.all.min.json");
  const currencies = load<Record<string, { name: string }>>("currencies.all.min.json");
  const raws: RawEntity[] = [];
  for (const code of Object.keys(all).sort()) {
    const c = all[code]!;
    const aliases = [...(c.alias ?? [])];
    if (c.native && c.native !== c.name && LATIN.test(c.native)) aliases.push(c.native);
    const lang = c.languages[0] ? languages[c.languages[0]]?.name : undefined;
    const curCode = c.currency[0];
    const cur = curCode ? currencies[curCode]?.name : undefined;
    raws.push({
      kind: "country",
      name: c.name,
      aliases,
      facts: [
        { relation: "capital", value: c.capital ?? "" },
        { relation: "continent", value: continents[c.continent] ?? "" },
        { relation: "language", value: lang ?? "" },
        { relation: "currency", value: cur ?? "", aliases: curCode ? [curCode] : [] },
      ],
    });
  }
  return buildEntities(COUNTRIES_SOURCE, raws);
}
