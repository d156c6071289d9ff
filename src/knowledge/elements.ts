/**
 * Chemical elements from npm `periodic-table`: symbol, atomic number, standard state (solid,
 * liquid, gas; none for the synthetic elements it leaves blank) and the year of discovery when
 * it is a year (not "Ancient").
 */
import { createRequire } from "node:module";
import { UserError } from "../util/errors.js";
import { buildEntities, type RawEntity } from "./names.js";
import type { Entity } from "./types.js";

const require = createRequire(import.meta.url);

export const ELEMENTS_SOURCE = "periodic-table";

interface RawElement {
  atomicNumber: number;
  symbol: string;
  name: string;
  standardState: string;
  yearDiscovered: number | string;
}

export function readElements(): Entity[] {
  let data: RawElement[];
  try {
    data = require("periodic-table/data.json") as RawElement[];
  } catch {
    throw new UserError("cannot read periodic-table/data.json", "run `npm ci` first");
  }
  const raws: RawEntity[] = data.map((e) => ({
    kind: "element",
    name: e.name,
    facts: [
      { relation: "symbol", value: e.symbol },
      { relation: "atomic-number", value: String(e.atomicNumber) },
      { relation: "standard-state", value: e.standardState },
      {
        relation: "year-discovered",
        value:
          typeof e.yearDiscovered === "number" && e.yearDiscovered > 1000
            ? String(e.yearDiscovered)
            : "",
      },
    ],
  }));
  return buildEntities(ELEMENTS_SOURCE, raws);
}
