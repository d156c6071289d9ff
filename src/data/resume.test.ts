import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { layout } from "./pipeline.js";
import { malformedRecord, plantedCorpus, plantedWarc } from "./planted.js";

const BIN = fileURLToPath(new URL("../../bin/chatforge.js", import.meta.url));
const skip = process.env.CHATFORGE_SLOW === "1" ? false : "slow: set CHATFORGE_SLOW=1";

function run(args: string[], onSpawn?: (pid: number) => void): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, "data", "run", ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    p.stderr.on("data", (d) => {
      err += d;
    });
    p.on("error", reject);
    p.on("exit", (code, signal) =>
      signal === "SIGKILL" || code === 0
        ? resolve(code)
        : reject(new Error(`exit ${code}: ${err}`)),
    );
    if (p.pid) onSpawn?.(p.pid);
  });
}

/** Every output that must not depend on how the run went: clean shards and removed lists. */
function outputs(dir: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const n of readdirSync(dir).filter((n) => n.startsWith("clean-")))
    m.set(n, readFileSync(join(dir, n)));
  for (const n of readdirSync(join(dir, "removed")))
    m.set(`removed/${n}`, readFileSync(join(dir, "removed", n)));
  return m;
}

test("kill -9 in the middle of a run, then a rerun: byte-identical outputs to an uninterrupted run", {
  skip,
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "cf-resume-"));
  try {
    const inDir = join(dir, "in");
    mkdirSync(inDir);
    const recs = plantedCorpus().filter((r) => r.name !== "huge");
    for (let i = 0; i < 8; i++) {
      // each file repeats the corpus under its own host: cross-task duplicates for MinHash
      const mine = recs.map((r) => ({ ...r, url: r.url.replace("://", `://f${i}.`) }));
      writeFileSync(join(inDir, `part-${i}.warc.gz`), Buffer.concat([plantedWarc(mine, true)]));
    }
    writeFileSync(
      join(inDir, "part-8.warc"),
      Buffer.concat([plantedWarc(recs.slice(0, 5), false), malformedRecord()]),
    );
    const common = ["--input", inDir, "--tasks", "9", "--workers", "1", "--quiet"];
    const ref = join(dir, "ref");
    await run([...common, "--out", ref]);

    const out = join(dir, "out");
    const L = layout(out);
    let killedAt = -1;
    await run([...common, "--out", out], (pid) => {
      const poll = setInterval(() => {
        // kill as soon as some filter tasks are done, while others are running
        if (existsSync(L.marker("filter", 1))) {
          clearInterval(poll);
          killedAt = readdirSync(join(out, "markers")).length;
          process.kill(pid, "SIGKILL");
        }
      }, 5);
    });
    assert.ok(killedAt > 0, "the run was killed after some tasks finished");
    assert.ok(!existsSync(L.marker("report")), "the run was killed before it finished");
    assert.ok(!existsSync(L.funnelJson));
    await run([...common, "--out", out]);
    assert.ok(existsSync(L.marker("report")));
    const a = outputs(ref);
    const b = outputs(out);
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    for (const [name, bytes] of a)
      assert.ok(bytes.equals(b.get(name) as Buffer), `${name} differs`);
    // no temp files left behind
    for (const d of [out, join(out, "work", "filtered"), join(out, "markers")]) {
      assert.deepEqual(
        readdirSync(d).filter((n) => n.startsWith(".tmp-")),
        [],
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
