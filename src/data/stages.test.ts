import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { WARCParser, WARCRecord, WARCSerializer } from "warcio";
import { c4Filter, DEFAULT_C4 } from "./c4.js";
import { extractFast, extractReadability, loadReadability } from "./extract.js";
import { DEFAULT_FINEWEB_QUALITY, fineWebQuality } from "./fineweb-quality.js";
import { DEFAULT_GOPHER_QUALITY, gopherQuality } from "./gopher-quality.js";
import { DEFAULT_GOPHER_REPETITION, gopherRepetition } from "./gopher-repetition.js";
import { detectLanguage, languageVerdict, loadDetector } from "./lang.js";
import {
  bandKeys,
  clusterByBands,
  dedupWordHashes,
  estimateSimilarity,
  fnv1a,
  minhashSignature,
  normaliseForDedup,
  UnionFind,
} from "./minhash.js";
import { scrubPii } from "./pii.js";
import { pageHtml, paragraphs, sotuSpeeches } from "./planted.js";
import { UrlFilter } from "./url-filter.js";
import { readJsonl, readWarc, warcResponseRecord } from "./warc.js";

const prose = (i: number, k = 8) => paragraphs(sotuSpeeches()[i]?.text ?? "").slice(2, 2 + k);

describe("WARC reader", () => {
  test("reads gzipped records written by warcio (the reference WARC library)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cf-warc-"));
    try {
      const parts: Uint8Array[] = [];
      const info = await WARCRecord.createWARCInfo(
        { filename: "x.warc.gz", warcVersion: "WARC/1.1" },
        { software: "test" },
      );
      parts.push(await WARCSerializer.serialize(info, { gzip: true }));
      const pages = [
        [
          "https://a.example/1",
          "<html><body><p>Första sidan, på svenska.</p></body></html>",
          "text/html; charset=utf-8",
        ],
        ["https://a.example/2", "plain text page\n", "text/plain"],
        ["https://a.example/3", "%PDF-1.4", "application/pdf"],
      ];
      for (const [url, body, ct] of pages) {
        async function* content() {
          yield new TextEncoder().encode(body);
        }
        const rec = await WARCRecord.create(
          {
            url,
            type: "response",
            warcVersion: "WARC/1.1",
            httpHeaders: { "Content-Type": ct as string },
          },
          content(),
        );
        parts.push(await WARCSerializer.serialize(rec, { gzip: true }));
      }
      const p = join(dir, "x.warc.gz");
      writeFileSync(p, Buffer.concat(parts));
      const r = readWarc(p);
      assert.deepEqual(
        r.docs.map((d) => [d.url, d.kind, d.content]),
        [
          ["https://a.example/1", "html", pages[0]?.[1]],
          ["https://a.example/2", "text", "plain text page\n"],
        ],
      );
      assert.deepEqual(
        r.skipped.map((s) => [s.url, s.reason]),
        [["https://a.example/3", "not-text"]],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("our records parse with warcio, and a truncated gzip file keeps what is readable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cf-warc-"));
    try {
      const rec = warcResponseRecord("https://b.example/", "<p>hello</p>", "text/html", 3);
      const urls: string[] = [];
      for await (const r of new WARCParser([rec])) urls.push(r.warcTargetURI ?? "");
      assert.deepEqual(urls, ["https://b.example/"]);
      const { gzipSync } = await import("node:zlib");
      const full = Buffer.concat([
        gzipSync(rec),
        gzipSync(warcResponseRecord("https://b.example/2", "<p>x</p>")),
      ]);
      const p = join(dir, "t.warc.gz");
      writeFileSync(p, full.subarray(0, full.length - 20));
      const r = readWarc(p);
      assert.equal(r.docs[0]?.url, "https://b.example/");
      assert.ok(r.skipped.some((s) => s.reason === "truncated-gzip"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("JSONL input: text documents, malformed lines counted", () => {
    const dir = mkdtempSync(join(tmpdir(), "cf-jsonl-"));
    try {
      const p = join(dir, "x.jsonl");
      writeFileSync(
        p,
        '{"text":"one","url":"u1"}\nnot json\n{"nope":1}\n{"html":"<p>two</p>","id":"k"}\n',
      );
      const r = readJsonl(p);
      assert.deepEqual(
        r.docs.map((d) => [d.id, d.kind, d.content]),
        [
          ["x.jsonl#0", "text", "one"],
          ["x.jsonl#k", "html", "<p>two</p>"],
        ],
      );
      assert.deepEqual(
        r.skipped.map((s) => s.reason),
        ["malformed-json", "malformed-json"],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("URL filter", () => {
  const f = new UrlFilter();
  test("blocked domains (and their sub-domains), banned words, soft-banned pairs, substrings", () => {
    assert.equal(f.check("https://www.spam.example/a"), "blocked-domain");
    assert.equal(f.check("https://deep.ads.example/a"), "blocked-domain");
    assert.equal(f.check("https://example.com/porn/1"), "banned-word");
    assert.equal(f.check("https://example.com/hot-dating-tips"), "soft-banned-words");
    assert.equal(f.check("https://example.com/hot-weather"), null); // one soft word is fine
    assert.equal(f.check("https://example.com/online-casino"), "banned-word");
    assert.equal(f.check("https://example.com/onlinecasinos"), "banned-substring");
    assert.equal(f.check("https://example.com/sussex-history"), null); // words are URL tokens, not substrings
  });
});

describe("HTML extraction", () => {
  const html = pageHtml(
    "Title",
    ["First real paragraph of the article.", "Second real paragraph."],
    { cookieBanner: true },
  );
  test("fast extractor keeps the content, drops menu, banner, sidebar, footer, scripts", () => {
    const t = extractFast(html);
    assert.equal(t, "Title\nFirst real paragraph of the article.\nSecond real paragraph.");
  });
  test("fast extractor: entities, <main> preferred, link lists dropped, <pre> keeps lines", () => {
    const t = extractFast(
      '<body><div>outside</div><main><p>Caf&eacute; &amp; &#x263A; &lt;ok&gt;</p><ul><li><a href="/">a link</a></li></ul><pre>a\n  b</pre></main></body>',
    );
    assert.equal(t, "Café & ☺ <ok>\na\n  b");
  });
  test("readability extractor finds the same main text", async () => {
    await loadReadability();
    const long = pageHtml("Title", prose(200, 6));
    const t = extractReadability(long);
    assert.ok(t.includes((prose(200, 1)[0] ?? "").slice(0, 60)));
    assert.ok(!t.includes("All rights reserved"));
  });
});

describe("hostile inputs finish in linear time", () => {
  // each of these took minutes with backtracking regular expressions; the timeout catches a relapse
  test("unclosed tags, comments, quotes; address-like runs without an @", {
    timeout: 20_000,
  }, () => {
    const n = 200_000;
    assert.equal(extractFast("<a ".repeat(n)), "<a ".repeat(n).trim()); // never closed: text
    assert.equal(extractFast(`<p>x</p>${"<!--".repeat(n)}`), "x");
    assert.ok(extractFast(`<div class="${'class="x '.repeat(n)}">text</div>`).length < 10);
    assert.equal(extractFast(`${"<main".repeat(n)}`).length, 5 * n);
    assert.equal(extractFast(`<pre>${" ".repeat(n)}x</pre>`), `${" ".repeat(n)}x`);
    assert.equal(scrubPii(`${"a.b.".repeat(n)}@`).emails, 0);
    assert.equal(scrubPii(`${"a".repeat(n)} x@y.com`).emails, 1);
  });
});

describe("language identification", () => {
  test("eld tells English, German and Japanese apart with a score", async () => {
    await loadDetector("eld");
    const en = detectLanguage(prose(190, 3).join(" "));
    assert.equal(en.language, "en");
    assert.ok(en.score > 0.6);
    assert.equal(
      detectLanguage("Die Bibliothek bleibt im Sommer länger geöffnet, weil viele Schüler lernen.")
        .language,
      "de",
    );
    assert.equal(
      detectLanguage("市立図書館は今年の夏、開館時間を延長することを決めました。").language,
      "ja",
    );
    const cfg = {
      enabled: true,
      detector: "eld" as const,
      keep: ["en"],
      minScore: 0.5,
      sampleChars: 4000,
    };
    assert.equal(languageVerdict({ language: "de", score: 0.9 }, cfg), "language-de");
    assert.equal(languageVerdict({ language: "en", score: 0.2 }, cfg), "language-low-score");
    assert.equal(languageVerdict({ language: "", score: 0 }, cfg), "language-unknown");
    assert.equal(languageVerdict({ language: "de", score: 0.9 }, { ...cfg, keep: [] }), null);
  });
});

describe("quality filters (FineWeb thresholds)", () => {
  const good = prose(195).join("\n");
  test("real prose passes all of them", () => {
    assert.equal(gopherRepetition(good, DEFAULT_GOPHER_REPETITION), null);
    assert.equal(gopherQuality(good, DEFAULT_GOPHER_QUALITY), null);
    const c4 = c4Filter(good, DEFAULT_C4);
    assert.ok("text" in c4 && c4.text === good);
    assert.equal(fineWebQuality(good, DEFAULT_FINEWEB_QUALITY), null);
  });
  test("Gopher repetition: duplicated lines, top n-grams", () => {
    const lines = prose(195, 3);
    assert.equal(
      gopherRepetition([...lines, ...lines, ...lines].join("\n\n"), DEFAULT_GOPHER_REPETITION),
      "dup-para-frac",
    );
    assert.equal(
      gopherRepetition([...lines, ...lines, ...lines].join("\n"), DEFAULT_GOPHER_REPETITION),
      "dup-line-frac",
    );
    const words = "the cat sat on the mat and the cat sat on the mat ".repeat(10);
    assert.match(gopherRepetition(words, DEFAULT_GOPHER_REPETITION) ?? "", /gram/);
  });
  test("Gopher quality: short, hashes, bullets, stop words", () => {
    assert.equal(
      gopherQuality("Too short to be a document.", DEFAULT_GOPHER_QUALITY),
      "too-few-words",
    );
    const hashes = `${good}\n${"#tag ".repeat(200)}`;
    assert.equal(gopherQuality(hashes, DEFAULT_GOPHER_QUALITY), "too-many-hashes");
    const bullets = Array.from({ length: 60 }, (_, i) => `- item number ${i} with the words`).join(
      "\n",
    );
    assert.equal(gopherQuality(bullets, DEFAULT_GOPHER_QUALITY), "bullet-lines");
    const salad = Array.from({ length: 80 }, (_, i) => `word${i}`).join(" ");
    assert.equal(gopherQuality(salad, DEFAULT_GOPHER_QUALITY), "few-stop-words");
  });
  test("C4: boilerplate lines removed; lorem ipsum, braces, few sentences drop the document", () => {
    const withJunk = `${good}\nPlease enable JavaScript to view the comments.\nShare\nRead our privacy policy here today.`;
    const r = c4Filter(withJunk, DEFAULT_C4);
    assert.ok("text" in r);
    assert.equal(r.text, good);
    assert.equal(r.linesRemoved, 3);
    assert.deepEqual(c4Filter(`${good}\nLorem ipsum dolor sit amet.`, DEFAULT_C4), {
      reason: "lorem-ipsum",
    });
    assert.deepEqual(c4Filter(`${good}\nif (x) { y(); }`, DEFAULT_C4), { reason: "curly-bracket" });
    assert.deepEqual(c4Filter("One sentence here. And two sentences here.", DEFAULT_C4), {
      reason: "too-few-sentences",
    });
  });
  test("FineWeb: punctuation, short lines, duplicate lines, lists", () => {
    const noPunct = Array.from(
      { length: 20 },
      (_, i) => `this line number ${i} has no final punctuation at all`,
    ).join("\n");
    assert.equal(fineWebQuality(noPunct, DEFAULT_FINEWEB_QUALITY), "line-punct-ratio");
    const short = Array.from({ length: 20 }, (_, i) => `Short line ${i}.`).join("\n");
    assert.equal(fineWebQuality(short, DEFAULT_FINEWEB_QUALITY), "short-line-ratio");
    const dup = `${good}\nThis exact sentence is repeated in the text of the page.\nThis exact sentence is repeated in the text of the page.`;
    assert.equal(fineWebQuality(dup, DEFAULT_FINEWEB_QUALITY), "dup-line-chars");
    const list = Array.from({ length: 20 }, (_, i) => `Item ${i} here.`).join("\n");
    assert.equal(
      fineWebQuality(list, { ...DEFAULT_FINEWEB_QUALITY, maxShortLineRatio: 1 }),
      "list-ratio",
    );
  });
});

describe("PII", () => {
  test("e-mails and public IPv4 replaced; private, loopback and version numbers kept", () => {
    const r = scrubPii(
      "Mail a.b-c+d@mail.example.co.uk or 8.8.8.8; LAN 10.0.0.1, 127.0.0.1, 172.20.1.1; v1.2.3.4.5",
    );
    assert.equal(
      r.text,
      "Mail email@example.com or 192.0.2.1; LAN 10.0.0.1, 127.0.0.1, 172.20.1.1; v1.2.3.4.5",
    );
    assert.deepEqual([r.emails, r.ips], [1, 1]);
    assert.equal(scrubPii(r.text).text, r.text, "idempotent");
    const custom = scrubPii("x@y.org at 1.1.1.1", {
      enabled: true,
      emailPlaceholder: "<EMAIL>",
      ipPlaceholder: "<IP>",
    });
    assert.equal(custom.text, "<EMAIL> at <IP>");
  });
});

describe("MinHash", () => {
  const a = prose(201, 6).join(" ");
  test("normalisation ignores case, punctuation and digits", () => {
    assert.equal(
      normaliseForDedup("Hello, World! In 1999 -- we met."),
      "hello world in 0000 we met",
    );
  });
  test("one-pass word hashes equal hashing the normalised words", () => {
    for (const t of [
      a,
      "",
      "  ¡Hola, señor!  Größe 42 — 東京 2020 😀 tab\there ",
      "x-y_z 1.5 §7",
    ]) {
      const expected = normaliseForDedup(t)
        .split(" ")
        .map((w) => fnv1a(w) | 0);
      assert.deepEqual([...dedupWordHashes(t)], expected, JSON.stringify(t));
    }
  });
  test("similarity estimate: near-duplicates high, unrelated texts near zero", () => {
    const w = a.split(" ");
    for (let i = 30; i < w.length; i += 30) w[i] = "changed";
    const sa = minhashSignature(a);
    assert.equal(sa.length, 112);
    assert.ok(estimateSimilarity(sa, minhashSignature(w.join(" "))) > 0.6);
    assert.ok(estimateSimilarity(sa, minhashSignature(prose(205, 6).join(" "))) < 0.1);
    assert.equal(estimateSimilarity(sa, minhashSignature(a.toUpperCase())), 1);
  });
  test("band clustering keeps the first document of each cluster", () => {
    const docs = [
      prose(202).join(" "),
      prose(203).join(" "),
      prose(202).join(" "),
      prose(203).join(" ").replace(/\./g, "!"),
    ];
    const keys = new Uint32Array(docs.length * 28);
    docs.forEach((d, i) => {
      keys.set(bandKeys(minhashSignature(d)), i * 28);
    });
    assert.deepEqual([...clusterByBands(keys, docs.length, 14)], [0, 1, 0, 1]);
  });
  test("union-find joins transitively with the smallest member as root", () => {
    const uf = new UnionFind(5);
    uf.union(4, 3);
    uf.union(3, 1);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((i) => uf.find(i)),
      [0, 1, 2, 1, 1],
    );
  });
});
