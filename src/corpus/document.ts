/**
 * A corpus document: one HTTP response as a crawler would have stored it. Every source turns
 * its inputs into these; the WARC writer turns them into `response` records.
 */
import { createHash } from "node:crypto";
import { escapeXml } from "../util/xml.js";

export interface CorpusDoc {
  /** Stable URL of the document (WARC-Target-URI). */
  url: string;
  /** HTTP Content-Type, e.g. `text/html; charset=utf-8`. */
  contentType: string;
  /** The HTTP payload bytes. */
  body: Uint8Array;
  /** Which source produced it, e.g. `sotu`, `dir:/usr/share/doc/x`, `warc:file.warc.gz`. */
  source: string;
  /** Crawl time (ISO 8601, UTC, seconds precision). */
  date: string;
  /** Extra HTTP headers (a passed-through record keeps its own). */
  httpHeaders?: Record<string, string>;
  /** HTTP status line, default `HTTP/1.1 200 OK`. */
  statusline?: string;
  /** Keep this WARC-Record-ID (pass-through); otherwise one is derived from url + source. */
  recordId?: string;
}

/** A deterministic WARC-Record-ID: a name-based UUID (SHA-1, version 5 layout) of the key. */
export function stableRecordId(key: string): string {
  const h = createHash("sha1").update(key).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `<urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}>`;
}

/** Lower-case words joined by '-', for URL paths. */
export function slug(s: string): string {
  return (
    s
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 80) || "index"
  );
}

export interface PageParts {
  site: string;
  title: string;
  /** Navigation links shown in the header (boilerplate the extractor should drop). */
  nav: string[];
  /** Main content, already HTML. */
  mainHtml: string;
  lang?: string;
}

/**
 * Renders a plausible web page around the main content: a header with navigation, the article,
 * a sidebar and a footer with a cookie notice — the boilerplate real crawls are full of.
 */
export function renderPage(p: PageParts): string {
  const nav = p.nav.map((n) => `<li><a href="/${slug(n)}/">${escapeXml(n)}</a></li>`).join("");
  return `<!DOCTYPE html>
<html lang="${p.lang ?? "en"}">
<head>
<meta charset="utf-8">
<title>${escapeXml(p.title)} | ${escapeXml(p.site)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}</script>
</head>
<body>
<header><a class="logo" href="/">${escapeXml(p.site)}</a>
<nav><ul>${nav}</ul></nav>
<form action="/search"><input name="q" placeholder="Search"></form>
</header>
<main>
<article>
<h1>${escapeXml(p.title)}</h1>
${p.mainHtml}
</article>
</main>
<aside><h2>Related</h2><ul><li><a href="/popular/">Most read</a></li><li><a href="/newsletter/">Sign up for our newsletter</a></li></ul></aside>
<footer>
<p>&copy; ${escapeXml(p.site)}. All rights reserved. <a href="/terms/">Terms of use</a> · <a href="/privacy/">Privacy policy</a></p>
<div class="cookie-banner">This site uses cookies to improve your experience. By continuing to browse you accept our use of cookies. <button>Accept</button></div>
</footer>
</body>
</html>
`;
}

/** Splits a long single-line text into paragraphs of about `sentences` sentences each. */
export function paragraphs(text: string, sentences = 5): string[] {
  const existing = text
    .split(/\n\s*\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (existing.length > 1) return existing.map((p) => p.replace(/\s*\n\s*/g, " "));
  const parts = text.match(/[^.!?]+(?:[.!?]+["')\]]*|$)\s*/g) ?? [text];
  const out: string[] = [];
  for (let i = 0; i < parts.length; i += sentences) {
    const p = parts
      .slice(i, i + sentences)
      .join("")
      .trim();
    if (p) out.push(p);
  }
  return out;
}

export const encoder = new TextEncoder();
