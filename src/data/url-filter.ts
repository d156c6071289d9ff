/**
 * URL filter (FineWeb's first stage): drops a document when its domain or URL is on a
 * blocklist, when a banned word appears as a token of the URL, when two or more soft-banned
 * words do, or when a banned substring appears anywhere in it. The shipped lists are small
 * examples; real runs pass their own files (one entry a line, `#` comments).
 */
import { readFileSync } from "node:fs";
import { UserError } from "../util/errors.js";

export interface UrlFilterConfig {
  enabled: boolean;
  /** Files of extra entries, one a line. */
  domainsFile?: string;
  urlsFile?: string;
  bannedWordsFile?: string;
  softBannedWordsFile?: string;
  bannedSubstringsFile?: string;
  /** How many soft-banned words in one URL drop it (FineWeb: 2). */
  softBannedThreshold: number;
}

export const DEFAULT_URL_FILTER: UrlFilterConfig = { enabled: true, softBannedThreshold: 2 };

/** Shipped defaults: short, illustrative lists (extend them with files). */
export const DEFAULT_BLOCKED_DOMAINS = ["spam.example", "ads.example", "click-bait.example"];
export const DEFAULT_BANNED_WORDS = [
  "porn",
  "xxx",
  "viagra",
  "cialis",
  "casino",
  "escort",
  "warez",
];
export const DEFAULT_SOFT_BANNED_WORDS = [
  "sex",
  "adult",
  "cam",
  "dating",
  "bet",
  "poker",
  "pills",
  "hot",
  "girls",
  "cheap",
];
export const DEFAULT_BANNED_SUBSTRINGS = ["freemoney", "pornhub", "hentai", "onlinecasino"];

/** Reads a list file: one entry a line, blank lines and `#` comments ignored, lower-cased. */
export function readList(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(
      `cannot read list file ${path}`,
      "pass a text file with one entry per line",
    );
  }
  return text
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim().toLowerCase())
    .filter((l) => l.length > 0);
}

export class UrlFilter {
  readonly domains: Set<string>;
  readonly urls: Set<string>;
  readonly banned: Set<string>;
  readonly softBanned: Set<string>;
  readonly substrings: string[];
  readonly softThreshold: number;

  constructor(cfg: UrlFilterConfig = DEFAULT_URL_FILTER) {
    const extra = (f: string | undefined) => (f ? readList(f) : []);
    this.domains = new Set([...DEFAULT_BLOCKED_DOMAINS, ...extra(cfg.domainsFile)]);
    this.urls = new Set(extra(cfg.urlsFile).map(normaliseUrl));
    this.banned = new Set([...DEFAULT_BANNED_WORDS, ...extra(cfg.bannedWordsFile)]);
    this.softBanned = new Set([...DEFAULT_SOFT_BANNED_WORDS, ...extra(cfg.softBannedWordsFile)]);
    this.substrings = [...DEFAULT_BANNED_SUBSTRINGS, ...extra(cfg.bannedSubstringsFile)];
    this.softThreshold = cfg.softBannedThreshold;
  }

  /** The reason to drop `url`, or null to keep it. */
  check(url: string): string | null {
    if (!url) return null;
    const lower = url.toLowerCase();
    const host = hostOf(lower);
    if (host) {
      // a blocked domain blocks its sub-domains too
      let h = host;
      for (;;) {
        if (this.domains.has(h)) return "blocked-domain";
        const dot = h.indexOf(".");
        if (dot < 0) break;
        h = h.slice(dot + 1);
      }
    }
    if (this.urls.size > 0 && this.urls.has(normaliseUrl(lower))) return "blocked-url";
    let soft = 0;
    for (const tok of lower.split(/[^a-z0-9]+/)) {
      if (!tok) continue;
      if (this.banned.has(tok)) return "banned-word";
      if (this.softBanned.has(tok)) soft++;
    }
    if (soft >= this.softThreshold) return "soft-banned-words";
    const squashed = lower.replace(/[^a-z0-9]+/g, "");
    for (const s of this.substrings) if (squashed.includes(s)) return "banned-substring";
    return null;
  }
}

/** The host of a URL (lower-case, without port and `www.`), or "" if it has none. */
export function hostOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#:]+)/i.exec(url);
  return m ? (m[1] as string).toLowerCase().replace(/^www\./, "") : "";
}

function normaliseUrl(url: string): string {
  return url
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, "")
    .replace(/^www\./, "")
    .replace(/\/+$/, "");
}
