import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { defaultDataConfig } from "./config.js";
import { arraySpec, runLocal, sbatchScript, submitSlurm, waitForSlurm } from "./executor.js";
import { layout } from "./pipeline.js";
import { malformedRecord, plantedCorpus, plantedWarc } from "./planted.js";
import { slurmAvailable, startLocalSlurm } from "./slurm-local.js";

function writeInputs(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const recs = plantedCorpus().filter((r) => r.name !== "huge");
  const files: string[] = [];
  for (let i = 0; i < 3; i++) {
    const p = join(dir, `in-${i}.warc${i === 1 ? "" : ".gz"}`);
    const part = recs.filter((_, j) => j % 3 === i);
    writeFileSync(
      p,
      Buffer.concat([plantedWarc(part, i !== 1), i === 1 ? malformedRecord() : Buffer.alloc(0)]),
    );
    files.push(p);
  }
  return files;
}

test("array specs collapse runs of task ids", () => {
  assert.equal(arraySpec([0, 1, 2, 3]), "0-3");
  assert.equal(arraySpec([0, 2, 3, 7]), "0,2-3,7");
  assert.equal(arraySpec([5]), "5");
});

test("the sbatch scripts run `data run --phase … --task $SLURM_ARRAY_TASK_ID` from the saved config", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-sbatch-"));
  try {
    const cfg = defaultDataConfig(writeInputs(join(dir, "in")), join(dir, "out"), 3);
    const sub = await submitSlurm(cfg, { dryRun: true, sbatchArgs: ["--partition=cpu"] });
    const filter = readFileSync(sub.scripts.filter, "utf8");
    assert.equal(filter, sbatchScript(cfg, "filter", { sbatchArgs: ["--partition=cpu"] }));
    assert.match(filter, /^#!\/bin\/bash\n#SBATCH --job-name=chatforge-data-filter\n/);
    assert.match(filter, /#SBATCH --output=.*\/work\/slurm\/filter-%A_%a\.out/);
    assert.match(filter, /#SBATCH --partition=cpu/);
    assert.match(filter, /data run --out ".*\/out" --phase filter --task \$SLURM_ARRAY_TASK_ID\n$/);
    assert.match(readFileSync(sub.scripts.dedup, "utf8"), /--phase dedup\n$/);
    assert.match(readFileSync(sub.scripts.report, "utf8"), /--phase report\n$/);
    assert.deepEqual(JSON.parse(readFileSync(layout(cfg.outDir).config, "utf8")), cfg);
    assert.deepEqual(sub.jobIds, {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const skip = !slurmAvailable()
  ? "needs root and Debian's slurm-wlm + munge (CI installs them)"
  : process.env.CHATFORGE_SLOW !== "1"
    ? "slow: set CHATFORGE_SLOW=1"
    : false;

test("on a real one-node Slurm cluster: job arrays give the same bytes as the local pool; a rerun submits only what is missing", {
  skip,
  timeout: 240_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-slurm-"));
  const slurm = await startLocalSlurm(join(dir, "cluster"));
  const oldConf = process.env.SLURM_CONF;
  process.env.SLURM_CONF = slurm.conf;
  try {
    const inputs = writeInputs(join(dir, "in"));
    const local = defaultDataConfig(inputs, join(dir, "local"), 3);
    await runLocal(local, { workers: 0, quiet: true });
    const cfg = defaultDataConfig(inputs, join(dir, "slurm"), 3);
    const sub = await submitSlurm(cfg);
    assert.deepEqual(Object.keys(sub.jobIds), ["filter", "dedup", "finalize", "report"]);
    const funnel = await waitForSlurm(cfg, sub, 500, 200_000);
    assert.equal(funnel.stages.at(-1)?.docsOut, 8);
    for (let t = 0; t < 3; t++) {
      assert.deepEqual(
        readFileSync(layout(cfg.outDir).clean(t)),
        readFileSync(layout(local.outDir).clean(t)),
      );
    }
    // lose one finalize task's output: the rerun submits finalize for task 1 and the report only
    rmSync(layout(cfg.outDir).marker("finalize", 1));
    rmSync(layout(cfg.outDir).marker("report"));
    const again = await submitSlurm(cfg);
    assert.deepEqual(Object.keys(again.jobIds), ["finalize", "report"]);
    await waitForSlurm(cfg, again, 500, 200_000);
    assert.deepEqual(
      readFileSync(layout(cfg.outDir).clean(1)),
      readFileSync(layout(local.outDir).clean(1)),
    );
  } finally {
    await slurm.stop();
    if (oldConf === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = oldConf;
    // munged and the daemons may still be flushing state files: retry while they finish
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});
