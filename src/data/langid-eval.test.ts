import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluateLanguageId, langSamples } from "./langid-eval.js";

const { missing } = langSamples(1);
const skip =
  missing.length > 0
    ? `needs Debian packages: apt-get install ${missing.join(" ")} (CI installs them)`
    : false;

test("language ID on held-out Debian text: eld is accurate on every language and beats franc", {
  skip,
}, async () => {
  const r = await evaluateLanguageId(["eld", "franc"], 60);
  const eld = r.rows.filter((x) => x.detector === "eld");
  assert.equal(eld.length, 10); // 7 Debian Reference languages + 3 fortune languages
  for (const row of eld) {
    // the translated references keep some untranslated English paragraphs and commands
    const floor = row.corpus === "fortunes" || row.lang === "en" ? 0.95 : 0.7;
    assert.ok(row.accuracy >= floor, `${row.corpus}/${row.lang}: ${row.accuracy}`);
  }
  const macro = (d: string) => r.summary.find((s) => s.detector === d)?.macroAccuracy ?? 0;
  assert.ok(macro("eld") > macro("franc"), `eld ${macro("eld")} vs franc ${macro("franc")}`);
});
