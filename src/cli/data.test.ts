/** `chatforge data run` on a corpus folder reads its WARC files, never its sidecars. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { plantedCorpus, plantedWarc } from "../data/planted.js";

const BIN = fileURLToPath(new URL("../../bin/chatforge.js", import.meta.url));

test("a corpus folder's skipped.jsonl and knowledge-pages.ndjson are not read as input", () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-data-cli-"));
  try {
    const corpus = join(dir, "corpus");
    mkdirSync(corpus);
    writeFileSync(
      join(corpus, "corpus-00000.warc.gz"),
      plantedWarc(plantedCorpus().slice(0, 4), true),
    );
    writeFileSync(
      join(corpus, "summary.json"),
      JSON.stringify({ version: 1, files: [{ name: "corpus-00000.warc.gz" }] }),
    );
    writeFileSync(
      join(corpus, "skipped.jsonl"),
      `${JSON.stringify({ reason: "bad gzip", where: "x" })}\n`,
    );
    const out = join(dir, "data");
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        "data",
        "run",
        "--input",
        corpus,
        "--out",
        out,
        "--tasks",
        "1",
        "--workers",
        "1",
        "--quiet",
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const funnel = JSON.parse(readFileSync(join(out, "funnel.json"), "utf8"));
    assert.equal(funnel.inputs, 1, "only the WARC file is an input");
    assert.equal(funnel.stages[0].docsIn, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
