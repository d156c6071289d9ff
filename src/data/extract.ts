/**
 * HTML → main text. Two extractors with one interface:
 *
 * - `fast` (default): a single pass over the tags in plain JS. It skips what is never content
 *   (script, style, head, svg, forms, …) and what is boilerplate by name (nav, header, footer,
 *   aside, and elements whose class or id says menu/cookie/banner/sidebar/share/…), keeps only
 *   `<main>`/`<article>` when the page has one, and drops link-heavy blocks (menus, link lists).
 *   It favours precision, like FineWeb's use of trafilatura.
 * - `readability`: Mozilla's Readability over a linkedom DOM (the Firefox reader view), slower.
 *
 * `npm run bench:data` measures both on pages with known main text (precision, recall, MB/s).
 * (Call `loadReadability()` once before using the latter.)
 * The time limit per document is checked after extraction (JS cannot pre-empt a synchronous
 * call): a document that took longer is dropped as "extract-timeout", and inputs over
 * `maxHtmlBytes` are never parsed.
 */

// Readability and linkedom are loaded on first use (the fast extractor needs neither).
let readabilityLib: {
  Readability: new (
    doc: unknown,
    opts?: { charThreshold?: number },
  ) => { parse(): { textContent?: string | null } | null };
  parseHTML: (html: string) => { document: unknown };
} | null = null;

/** Loads Readability and linkedom (call once before using the `readability` extractor). */
export async function loadReadability(): Promise<void> {
  if (readabilityLib) return;
  const [r, l] = await Promise.all([import("@mozilla/readability"), import("linkedom")]);
  readabilityLib = {
    Readability: r.Readability,
    parseHTML: l.parseHTML as (html: string) => { document: unknown },
  };
}

export type ExtractorName = "fast" | "readability";

export interface ExtractConfig {
  enabled: boolean;
  extractor: ExtractorName;
  /** Documents whose extraction takes longer are dropped (FineWeb: 1 s). */
  timeoutMs: number;
  /** HTML larger than this is dropped unparsed. */
  maxHtmlBytes: number;
}

export const DEFAULT_EXTRACT: ExtractConfig = {
  enabled: true,
  extractor: "fast",
  timeoutMs: 1000,
  maxHtmlBytes: 5 * 1024 * 1024,
};

/** Elements whose whole content is never text. */
const SKIP_ALWAYS = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "math",
  "head",
  "iframe",
  "object",
  "canvas",
  "select",
  "button",
  "textarea",
  "form",
  "video",
  "audio",
  "map",
]);
/** Elements that are boilerplate by their name. */
const SKIP_BOILERPLATE = new Set(["nav", "header", "footer", "aside", "menu", "dialog"]);
/** class/id words that mark boilerplate containers. */
const BOILERPLATE_ATTR =
  /(?:^|[\s_-])(?:nav|navbar|navigation|menu|menubar|footer|header|sidebar|side-bar|cookie|cookies|consent|gdpr|banner|breadcrumbs?|share|sharing|social|related|comments?|advert|ads?|sponsor|popup|modal|newsletter|subscribe|skip|pagination|toolbar|widget)(?:$|[\s_-])/i;
/** Elements that end a block of text (a line in the output). */
const BLOCK = new Set([
  "p",
  "div",
  "br",
  "li",
  "ul",
  "ol",
  "dl",
  "dt",
  "dd",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "section",
  "article",
  "main",
  "blockquote",
  "pre",
  "table",
  "tr",
  "td",
  "th",
  "hr",
  "figure",
  "figcaption",
  "address",
  "body",
  "html",
  "title",
  "details",
  "summary",
]);
/** Elements that never have a closing tag. */
const VOID = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "param",
  "source",
  "track",
  "wbr",
]);

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ndash: "–",
  mdash: "—",
  hellip: "…",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  copy: "©",
  reg: "®",
  trade: "™",
  euro: "€",
  pound: "£",
  middot: "·",
  bull: "•",
  laquo: "«",
  raquo: "»",
  eacute: "é",
  egrave: "è",
  agrave: "à",
  uuml: "ü",
  ouml: "ö",
  auml: "ä",
  szlig: "ß",
  ccedil: "ç",
  ntilde: "ñ",
  times: "×",
  deg: "°",
};

/** Decodes HTML character references (numeric and the common named ones). */
export function decodeEntities(s: string): string {
  if (s.indexOf("&") < 0) return s;
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);?/gi, (m, e: string) => {
    if (e[0] === "#") {
      const cp =
        e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)
        ? String.fromCodePoint(cp)
        : "";
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

interface Block {
  text: string;
  linkChars: number;
}

/** Tables with no cell at least this long are dropped. */
const MIN_TABLE_CELL = 80;

// Tags, doctypes and processing instructions. Attribute text may not contain "<" or ">": a
// rare loss (a quoted ">" ends the tag early) that keeps matching linear on any input.
const TAG_RE = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>|<![^<>]*>|<\?[^<>]*>/g;

/** Removes `<!-- … -->` comments in one pass (an unclosed comment runs to the end). */
function stripComments(html: string): string {
  let i = html.indexOf("<!--");
  if (i < 0) return html;
  let out = "";
  let last = 0;
  while (i >= 0) {
    out += html.slice(last, i);
    const end = html.indexOf("-->", i + 4);
    if (end < 0) return out;
    last = end + 3;
    i = html.indexOf("<!--", last);
  }
  return out + html.slice(last);
}
/<!--[\s\S]*?-->|<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|<![^>]*>|<\?[^>]*>/g;

/** The fast extractor. Returns the main text (lines joined with `\n`, paragraphs kept). */
export function extractFast(html: string): string {
  html = stripComments(html);
  // Keep only <main> or <article> when the page marks its content (first one wins).
  const m = /<(main|article)\b[^<>]*>/i.exec(html);
  if (m) {
    const name = (m[1] as string).toLowerCase();
    const end = html.toLowerCase().lastIndexOf(`</${name}`);
    if (end > m.index) html = html.slice(m.index + m[0].length, end);
  }
  const blocks: Block[] = [];
  let cur = "";
  let curLink = 0;
  let inLink = 0;
  let pre = 0;
  // skip state: the tag that opened the skipped region and its nesting depth
  let skipTag = "";
  let skipDepth = 0;
  let tableDepth = 0;
  let tableStart = 0;
  const flush = () => {
    const t =
      pre > 0
        ? cur
            .split("\n")
            .map((l) => l.trimEnd())
            .join("\n")
            .replace(/^\n+|\n+$/g, "")
        : cur.replace(/\s+/g, " ").trim();
    if (t) blocks.push({ text: t, linkChars: curLink });
    cur = "";
    curLink = 0;
  };
  let last = 0;
  TAG_RE.lastIndex = 0;
  for (let r = TAG_RE.exec(html); r !== null; r = TAG_RE.exec(html)) {
    if (skipTag === "" && r.index > last) {
      const raw = decodeEntities(html.slice(last, r.index));
      cur += raw;
      if (inLink > 0) curLink += nonSpaceChars(raw);
    }
    last = TAG_RE.lastIndex;
    const tag = r[2];
    if (tag === undefined) continue; // doctype, processing instruction
    const name = tag.toLowerCase();
    const closing = r[1] === "/";
    if (skipTag !== "") {
      if (name === skipTag && !VOID.has(name) && !(r[3] ?? "").endsWith("/")) {
        skipDepth += closing ? -1 : 1;
        if (skipDepth === 0) skipTag = "";
      }
      continue;
    }
    if (!closing) {
      const attrs = r[3] ?? "";
      if (SKIP_ALWAYS.has(name) || SKIP_BOILERPLATE.has(name) || boilerplateAttrs(attrs)) {
        if (!VOID.has(name) && !attrs.endsWith("/")) {
          flush();
          skipTag = name;
          skipDepth = 1;
        }
        continue;
      }
    }
    if (name === "table") {
      // a table whose cells are all short is data or layout chrome (key/value headers,
      // link grids), not prose: drop it as a whole when the outermost table closes
      if (!closing) {
        if (tableDepth++ === 0) {
          flush();
          tableStart = blocks.length;
        }
      } else if (tableDepth > 0 && --tableDepth === 0) {
        flush();
        let longest = 0;
        for (let i = tableStart; i < blocks.length; i++)
          longest = Math.max(longest, (blocks[i] as Block).text.length);
        if (longest < MIN_TABLE_CELL) blocks.length = tableStart;
      }
      continue;
    }
    if (name === "a") {
      if (!closing && (r[3] ?? "").endsWith("/")) continue; // XHTML anchor `<a id="x"/>`: no text
      inLink = closing ? Math.max(0, inLink - 1) : inLink + 1;
    } else if (BLOCK.has(name)) {
      flush();
      if (name === "pre") pre = closing ? Math.max(0, pre - 1) : pre + 1;
    }
  }
  if (skipTag === "" && last < html.length) cur += decodeEntities(html.slice(last));
  flush();
  const lines: string[] = [];
  for (const b of blocks) {
    // a block that is mostly link text is navigation (menus, tag clouds, "read more")
    if (b.linkChars > 0 && b.linkChars / Math.max(1, nonSpaceChars(b.text)) > 0.5) continue;
    lines.push(b.text);
  }
  return lines.join("\n");
}

function nonSpaceChars(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(c === 32 || (c >= 9 && c <= 13) || c === 0xa0)) n++;
  }
  return n;
}

function boilerplateAttrs(attrs: string): boolean {
  // (very long attribute text — inline data, broken markup — is not inspected: bounded work)
  if (attrs.length === 0 || attrs.length > 4000) return false;
  const m = /\b(?:class|id|role)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi;
  for (let r = m.exec(attrs); r !== null; r = m.exec(attrs)) {
    const v = (r[1] as string).replace(/^["']|["']$/g, "");
    if (BOILERPLATE_ATTR.test(v) || /^(?:navigation|banner|contentinfo|complementary)$/i.test(v))
      return true;
  }
  return /\baria-hidden\s*=\s*["']?true/i.test(attrs) || /\bhidden(?:\s|$|=)/i.test(attrs);
}

/** Mozilla Readability over linkedom; falls back to "" when it finds no article. */
export function extractReadability(html: string): string {
  if (!readabilityLib) throw new Error("call loadReadability() first");
  const { document } = readabilityLib.parseHTML(html);
  const article = new readabilityLib.Readability(document, { charThreshold: 100 }).parse();
  const text = article?.textContent ?? "";
  return text
    .split(/\n+/)
    .map((l) => l.replace(/\s+/g, " ").trim())
    .filter((l) => l.length > 0)
    .join("\n");
}

export type ExtractResult = { text: string } | { reason: string };

/** Extracts with the configured extractor, enforcing size and time limits. */
export function extract(html: string, cfg: ExtractConfig): ExtractResult {
  if (html.length > cfg.maxHtmlBytes) return { reason: "html-too-large" };
  const t0 = performance.now();
  let text: string;
  try {
    text = cfg.extractor === "readability" ? extractReadability(html) : extractFast(html);
  } catch {
    return { reason: "extract-error" };
  }
  if (performance.now() - t0 > cfg.timeoutMs) return { reason: "extract-timeout" };
  if (text.trim().length === 0) return { reason: "no-text" };
  return { text };
}
