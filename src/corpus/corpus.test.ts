import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { UserError } from "../util/errors.js";
import { buildCorpus, type CorpusBuildOptions } from "./build.js";
import { verifyCorpus } from "./verify.js";

const BIN = new URL("../../bin/chatforge.js", import.meta.url).pathname;
const SLOW = process.env.CHATFORGE_SLOW === "1";
let tmp: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "chatforge-corpus-"));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function opts(outDir: string, o: Partial<CorpusBuildOptions> = {}): CorpusBuildOptions {
  return { outDir, packaged: [], htmlDirs: [], warcs: [], jsonls: [], files: 2, quiet: true, ...o };
}

async function sha(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

/** Independent check: gunzip (all members) and count `WARC-Type: response` lines, like zcat | grep. */
async function zcatCount(dir: string): Promise<number> {
  let n = 0;
  for (const f of (await readdir(dir)).filter((f) => f.endsWith(".warc.gz"))) {
    const text = gunzipSync(await readFile(join(dir, f))).toString("latin1");
    n += text.match(/^WARC-Type: response\r?$/gm)?.length ?? 0;
  }
  return n;
}

describe("corpus build", () => {
  test("packaged datasets → WARC files that the WARC parser and zcat read back completely", async () => {
    const out = join(tmp, "packaged");
    const s = await buildCorpus(
      opts(out, { packaged: ["sotu", "moby-dick", "spam-assassin"], limitPerSource: 7, files: 3 }),
    );
    assert.equal(s.documents, 21);
    assert.deepEqual(Object.keys(s.sources).sort(), ["moby-dick", "sotu", "spam-assassin"]);
    assert.equal(s.files.length, 3);
    assert.equal(
      s.files.reduce((a, f) => a + f.records, 0),
      21,
    );
    const v = await verifyCorpus(out);
    assert.deepEqual(v.problems, []);
    assert.equal(v.records, 21);
    assert.equal(v.payloadBytes, s.payloadBytes);
    assert.equal(await zcatCount(out), 21);
    // files are of about equal size: no file more than twice the smallest
    const sizes = s.files.map((f) => f.bytes);
    assert.ok(Math.max(...sizes) < 2 * Math.min(...sizes), `sizes ${sizes}`);
  });

  test("a rerun reuses a finished corpus; --force rebuilds byte-identical files", async () => {
    const out = join(tmp, "rerun");
    const o = opts(out, { packaged: ["moby-dick"], limitPerSource: 5 });
    const a = await buildCorpus(o);
    assert.equal(a.reused, false);
    const hashes = await Promise.all(a.files.map((f) => sha(join(out, f.name))));
    const b = await buildCorpus(o);
    assert.equal(b.reused, true);
    const c = await buildCorpus({ ...o, force: true });
    assert.equal(c.reused, false);
    assert.deepEqual(await Promise.all(c.files.map((f) => sha(join(out, f.name)))), hashes);
  });

  test("HTML folder: odd files are counted skips with reasons, declared charsets pass through", async () => {
    const dir = join(tmp, "site");
    await mkdir(join(dir, "sub"), { recursive: true });
    await writeFile(
      join(dir, "index.html"),
      "<html><body><p>Hello world, this is a page.</p></body></html>",
    );
    await writeFile(join(dir, "sub", "notes.txt"), "plain text notes\n");
    await writeFile(
      join(dir, "latin1.html"),
      Buffer.from('<meta charset="iso-8859-1"><p>caf\xe9</p>', "latin1"),
    );
    await writeFile(
      join(dir, "broken.html"),
      Buffer.from("<p>caf\xe9 without a charset</p>", "latin1"),
    );
    await writeFile(join(dir, "binary.html"), Buffer.from([0x3c, 0x00, 0x01, 0x02]));
    await writeFile(join(dir, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    await writeFile(join(dir, "empty.htm"), "");
    const out = join(tmp, "site-out");
    const s = await buildCorpus(opts(out, { htmlDirs: [dir], files: 1 }));
    assert.equal(s.documents, 3);
    assert.equal(s.contentTypes["text/html"], 2);
    assert.equal(s.contentTypes["text/plain"], 1);
    assert.equal(s.skipped.total, 4);
    assert.equal(s.skipped.reasons["invalid UTF-8 and no declared charset"], 1);
    assert.equal(s.skipped.reasons["binary content (NUL bytes)"], 1);
    assert.equal(s.skipped.reasons["not an HTML or text file"], 1);
    assert.equal(s.skipped.reasons["empty file"], 1);
    const text = gunzipSync(await readFile(join(out, s.files[0]!.name))).toString("latin1");
    assert.match(text, /WARC-Target-URI: https:\/\/local\.example\/site\/sub\/notes\.txt/);
    assert.match(text, /Content-Type: text\/html; charset=iso-8859-1/);
  });

  test("missing paths, empty folders and no documents are clear errors with no output left", async () => {
    const out = join(tmp, "errors");
    await assert.rejects(
      buildCorpus(opts(out, { htmlDirs: [join(tmp, "nope")] })),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /no such directory/);
        return true;
      },
    );
    const empty = join(tmp, "empty");
    await mkdir(empty, { recursive: true });
    await assert.rejects(
      buildCorpus(opts(out, { htmlDirs: [empty] })),
      /no HTML or text files found/,
    );
    await assert.rejects(
      buildCorpus(opts(out, { warcs: [join(tmp, "missing.warc.gz")] })),
      /no such file/,
    );
    await assert.rejects(buildCorpus(opts(out)), /no sources selected/);
    assert.deepEqual(existsSync(out) ? await readdir(out) : [], []);
  });

  test("corrupt WARC inputs keep the good records and count the damage", async () => {
    const src = join(tmp, "src");
    const s0 = await buildCorpus(opts(src, { packaged: ["sotu"], limitPerSource: 12, files: 1 }));
    const good = await readFile(join(src, s0.files[0]!.name));
    const plain = gunzipSync(good);

    // 1. a gzip member cut in the middle: the records before it survive
    const truncated = join(tmp, "truncated.warc.gz");
    await writeFile(truncated, good.subarray(0, Math.floor(good.length * 0.6)));
    // 2. a record whose WARC Content-Length is too small
    const shortLen = join(tmp, "short.warc");
    const text = plain.toString("latin1");
    const at = text.indexOf(
      "Content-Length: ",
      text.indexOf("WARC-Type: response", text.indexOf("WARC-Type: response") + 1),
    );
    const eol = text.indexOf("\r\n", at);
    await writeFile(
      shortLen,
      Buffer.from(text.slice(0, at) + "Content-Length: 200" + text.slice(eol), "latin1"),
    );
    // 3. JSONL with a bad line
    const jsonl = join(tmp, "docs.jsonl");
    await writeFile(
      jsonl,
      '{"text":"one","url":"https://a.example/1"}\nnot json\n{"url":"x"}\n{"text":"two"}\n',
    );

    const out = join(tmp, "corrupt-out");
    const s = await buildCorpus(opts(out, { warcs: [truncated, shortLen], jsonls: [jsonl] }));
    const fromTrunc = s.sources[`warc:${truncated}`]?.documents ?? 0;
    const fromShort = s.sources[`warc:${shortLen}`]?.documents ?? 0;
    assert.ok(fromTrunc >= 5 && fromTrunc < 12, `truncated file gave ${fromTrunc}`);
    assert.ok(fromShort >= 9 && fromShort < 12, `short-length file gave ${fromShort}`);
    assert.equal(s.sources[`jsonl:${jsonl}`]?.documents, 2);
    const reasons = Object.keys(s.skipped.reasons).join("\n");
    assert.match(reasons, /truncated record/);
    assert.match(reasons, /invalid JSON/);
    assert.match(reasons, /no "text" string/);
    assert.deepEqual((await verifyCorpus(out)).problems, []);
  });

  test("CLI: a bad path prints one error line, no stack trace, exit code 1", () => {
    const r = spawnSync(
      process.execPath,
      [BIN, "corpus", "build", "--packaged", "none", "--html-dir", "/no/such/dir", "-q"],
      {
        encoding: "utf8",
        env: { ...process.env, CHATFORGE_RUNS: join(tmp, "runs") },
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: --html-dir \/no\/such\/dir: no such directory\n/);
    assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/);
    const bad = spawnSync(process.execPath, [BIN, "corpus", "build", "--files", "0"], {
      encoding: "utf8",
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--files must be a positive integer/);
  });

  test("SIGKILL during a build leaves no partial file; a rerun completes identically", {
    skip: !SLOW && "slow (CHATFORGE_SLOW=1)",
  }, async () => {
    const runs = join(tmp, "kill-runs");
    const env = { ...process.env, CHATFORGE_RUNS: runs };
    const args = [
      BIN,
      "corpus",
      "build",
      "--run",
      "k",
      "--packaged",
      "sotu,spam-assassin",
      "--limit",
      "400",
      "-q",
    ];
    const dir = join(runs, "k", "corpus");
    const child = spawn(process.execPath, args, { env, stdio: "ignore" });
    // wait until the build is writing, then kill it hard
    for (let i = 0; i < 400; i++) {
      await new Promise((r) => setTimeout(r, 25));
      if (existsSync(dir) && (await readdir(dir)).some((n) => n.startsWith(".tmp-"))) break;
    }
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const left = await readdir(dir);
    assert.ok(
      !left.some((n) => n.endsWith(".warc.gz") && !n.startsWith(".tmp-")),
      `partial output: ${left}`,
    );
    assert.ok(!left.includes("summary.json"));

    const rerun = spawnSync(process.execPath, args, { env, encoding: "utf8" });
    assert.equal(rerun.status, 0, rerun.stderr);
    const after = await readdir(dir);
    assert.ok(!after.some((n) => n.startsWith(".tmp-")), `temp files left: ${after}`);
    assert.deepEqual((await verifyCorpus(dir)).problems, []);

    const fresh = spawnSync(process.execPath, [...args.slice(0, 4), "k2", ...args.slice(5)], {
      env,
      encoding: "utf8",
    });
    assert.equal(fresh.status, 0, fresh.stderr);
    for (const f of after.filter((n) => n.endsWith(".warc.gz"))) {
      assert.equal(await sha(join(dir, f)), await sha(join(runs, "k2", "corpus", f)), f);
    }
  });
});
