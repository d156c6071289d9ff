/**
 * Reading the pipeline's inputs: WARC (plain or gzipped, one gzip member per record or one for
 * the whole file) and JSONL. A small, fast reader of our own: it works on whole buffers with
 * `indexOf`, never throws on bad input, and reports every record it cannot use with a reason,
 * so the funnel can count "malformed", "binary", "too-large", "invalid-encoding" and friends.
 *
 * WARC/1.x record layout: `WARC/1.1\r\n` + headers + `\r\n` + block of `Content-Length` bytes
 * + `\r\n\r\n`. A `response` block is an HTTP response: status line, headers, blank line, body.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { constants, gunzipSync } from "node:zlib";

/** One input document, before any filtering. */
export interface RawDoc {
  /** Stable id: `<file name>#<record number>`. */
  id: string;
  url: string;
  /** The file the document came from (its base name). */
  source: string;
  /** HTML (from WARC text/html, or JSONL `html`) or plain text. */
  content: string;
  kind: "html" | "text";
  /** Size of the payload in bytes, as read. */
  bytes: number;
}

/** A record the reader could not turn into a document, and why. */
export interface SkippedRecord {
  id: string;
  url: string;
  reason: string;
  bytes: number;
}

export interface ReadLimits {
  /** Payloads larger than this are skipped as "too-large" (default 10 MB). */
  maxBytes: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = { maxBytes: 10 * 1024 * 1024 };

const CRLF2 = Buffer.from("\r\n\r\n");
const LF2 = Buffer.from("\n\n");
const WARC_MAGIC = Buffer.from("WARC/1.");

/** Decompresses a gzip buffer; a truncated or corrupt tail yields what could be read. */
export function gunzipLenient(buf: Buffer): { data: Buffer; truncated: boolean } {
  try {
    return { data: gunzipSync(buf), truncated: false };
  } catch {
    try {
      const data = gunzipSync(buf, { finishFlush: constants.Z_SYNC_FLUSH });
      return { data, truncated: true };
    } catch {
      return { data: Buffer.alloc(0), truncated: true };
    }
  }
}

/** Parses `Name: value` header lines (names lower-cased; first value wins). */
function parseHeaders(text: string): Map<string, string> {
  const h = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const c = line.indexOf(":");
    if (c <= 0) continue;
    const k = line.slice(0, c).trim().toLowerCase();
    if (!h.has(k)) h.set(k, line.slice(c + 1).trim());
  }
  return h;
}

/** Finds the end of a header block (`\r\n\r\n`, or a bare `\n\n`); returns [end, sepLength]. */
function headerEnd(buf: Buffer, from: number, limit: number): [number, number] {
  const a = buf.indexOf(CRLF2, from);
  const b = buf.indexOf(LF2, from);
  if (a >= 0 && a < limit && (b < 0 || a <= b)) return [a, 4];
  if (b >= 0 && b < limit) return [b, 2];
  return [-1, 0];
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** True if the first 4 KB look binary (NUL bytes or many control characters). */
export function looksBinary(body: Buffer): boolean {
  const n = Math.min(body.length, 4096);
  let ctrl = 0;
  for (let i = 0; i < n; i++) {
    const c = body[i] as number;
    if (c === 0) return true;
    if (c < 9 || (c > 13 && c < 32)) ctrl++;
  }
  return n > 0 && ctrl / n > 0.05;
}

/**
 * Decodes a payload: UTF-8 when valid; otherwise the declared charset if Node knows it;
 * otherwise `null` (the record is skipped as "invalid-encoding").
 */
export function decodeText(body: Buffer, charset: string | undefined): string | null {
  const cs = charset?.toLowerCase().replace(/^["']|["']$/g, "");
  if (!cs || cs === "utf-8" || cs === "utf8" || cs === "us-ascii" || cs === "ascii") {
    try {
      return UTF8.decode(body);
    } catch {
      return null;
    }
  }
  try {
    return new TextDecoder(cs, { fatal: true }).decode(body);
  } catch {
    return null;
  }
}

/** Reads the `charset=` parameter of a Content-Type value. */
function charsetOf(contentType: string): string | undefined {
  const m = /charset\s*=\s*["']?([\w.:-]+)/i.exec(contentType);
  return m?.[1];
}

export interface ReadResult {
  docs: RawDoc[];
  skipped: SkippedRecord[];
  /** Bytes of input read (uncompressed payload sizes of all records, kept or not). */
  bytes: number;
}

/**
 * Reads every record of a WARC file. Only `response` records with an HTTP 200 and a
 * text/html or text/plain payload become documents; `warcinfo`, `request` and `metadata`
 * records are passed over silently; everything else is skipped with a reason.
 */
export function readWarc(path: string, limits: ReadLimits = DEFAULT_READ_LIMITS): ReadResult {
  const name = basename(path);
  let buf: Buffer = readFileSync(path);
  const out: ReadResult = { docs: [], skipped: [], bytes: 0 };
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    const { data, truncated } = gunzipLenient(buf);
    buf = data;
    if (truncated)
      out.skipped.push({ id: `${name}#gzip`, url: "", reason: "truncated-gzip", bytes: 0 });
  }
  let pos = 0;
  let n = 0;
  let afterMalformed = false; // the rest of a malformed record is not counted again
  while (pos < buf.length) {
    const start = buf.indexOf(WARC_MAGIC, pos);
    if (start < 0) break;
    if (
      !afterMalformed &&
      start > pos &&
      buf.subarray(pos, start).toString("latin1").trim() !== ""
    ) {
      out.skipped.push({
        id: `${name}@${pos}`,
        url: "",
        reason: "malformed-record",
        bytes: start - pos,
      });
    }
    afterMalformed = false;
    const id = `${name}#${n++}`;
    const [hEnd, sep] = headerEnd(buf, start, start + 64 * 1024);
    if (hEnd < 0) {
      out.skipped.push({ id, url: "", reason: "malformed-record", bytes: buf.length - start });
      pos = start + WARC_MAGIC.length;
      afterMalformed = true;
      continue;
    }
    const headers = parseHeaders(buf.subarray(start, hEnd).toString("latin1"));
    const url = (headers.get("warc-target-uri") ?? "").replace(/^<|>$/g, "");
    const len = Number(headers.get("content-length"));
    const blockStart = hEnd + sep;
    if (!Number.isInteger(len) || len < 0 || blockStart + len > buf.length) {
      out.skipped.push({ id, url, reason: "malformed-record", bytes: buf.length - blockStart });
      pos = blockStart;
      afterMalformed = true;
      continue;
    }
    pos = blockStart + len;
    out.bytes += len;
    const type = headers.get("warc-type") ?? "";
    if (type !== "response" && type !== "resource") continue;
    const block = buf.subarray(blockStart, blockStart + len);
    const rec = parseResponseBlock(block, type, headers, limits);
    if ("reason" in rec) out.skipped.push({ id, url, reason: rec.reason, bytes: len });
    else
      out.docs.push({ id, url, source: name, content: rec.text, kind: rec.kind, bytes: rec.bytes });
  }
  return out;
}

/** Turns a WARC block into text, or a reason why not. */
function parseResponseBlock(
  block: Buffer,
  type: string,
  warcHeaders: Map<string, string>,
  limits: ReadLimits,
): { text: string; kind: "html" | "text"; bytes: number } | { reason: string } {
  let body = block;
  let contentType = warcHeaders.get("content-type") ?? "";
  if (type === "response") {
    const [hEnd, sep] = headerEnd(block, 0, Math.min(block.length, 64 * 1024));
    if (hEnd < 0) return { reason: "malformed-http" };
    const head = block.subarray(0, hEnd).toString("latin1");
    const status = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(head);
    if (!status) return { reason: "malformed-http" };
    if (status[1] !== "200") return { reason: `http-${status[1]}` };
    const h = parseHeaders(head.slice(head.indexOf("\n") + 1));
    contentType = h.get("content-type") ?? "";
    const enc = h.get("content-encoding");
    if (enc && enc !== "identity") return { reason: "content-encoding" };
    body = block.subarray(hEnd + sep);
  }
  const mime = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  let kind: "html" | "text";
  if (mime === "text/html" || mime === "application/xhtml+xml") kind = "html";
  else if (mime === "text/plain") kind = "text";
  else return { reason: mime ? "not-text" : "no-content-type" };
  if (body.length > limits.maxBytes) return { reason: "too-large" };
  if (looksBinary(body)) return { reason: "binary" };
  const text = decodeText(body, charsetOf(contentType));
  if (text === null) return { reason: "invalid-encoding" };
  return { text, kind, bytes: body.length };
}

/**
 * Reads a JSONL file: one object per line with `text` (or `html`), optional `url` and `id`.
 * Lines that are not such objects are skipped as "malformed-json".
 */
export function readJsonl(path: string, limits: ReadLimits = DEFAULT_READ_LIMITS): ReadResult {
  const name = basename(path);
  let buf: Buffer = readFileSync(path);
  const out: ReadResult = { docs: [], skipped: [], bytes: 0 };
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    const { data, truncated } = gunzipLenient(buf);
    buf = data;
    if (truncated)
      out.skipped.push({ id: `${name}#gzip`, url: "", reason: "truncated-gzip", bytes: 0 });
  }
  const text = decodeText(buf, "utf-8");
  if (text === null) {
    out.skipped.push({ id: `${name}#*`, url: "", reason: "invalid-encoding", bytes: buf.length });
    return out;
  }
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.trim()) continue;
    const bytes = Buffer.byteLength(line);
    out.bytes += bytes;
    let id = `${name}#${i}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      out.skipped.push({ id, url: "", reason: "malformed-json", bytes });
      continue;
    }
    const o = obj as Record<string, unknown>;
    const content =
      typeof o.text === "string" ? o.text : typeof o.html === "string" ? o.html : null;
    const url = typeof o.url === "string" ? o.url : "";
    if (typeof o.id === "string") id = `${name}#${o.id}`;
    if (content === null) {
      out.skipped.push({ id, url, reason: "malformed-json", bytes });
      continue;
    }
    if (bytes > limits.maxBytes) {
      out.skipped.push({ id, url, reason: "too-large", bytes });
      continue;
    }
    const kind = typeof o.text === "string" ? "text" : "html";
    out.docs.push({ id, url, source: name, content, kind, bytes });
  }
  return out;
}

/** Reads any supported input by its name: `.warc`, `.warc.gz`, `.jsonl`, `.jsonl.gz`. */
export function readInput(path: string, limits: ReadLimits = DEFAULT_READ_LIMITS): ReadResult {
  return /\.jsonl(\.gz)?$/.test(path) ? readJsonl(path, limits) : readWarc(path, limits);
}

/** True for the file names `readInput` understands. */
export function isInputName(name: string): boolean {
  return /\.(warc|arc|jsonl)(\.gz)?$/.test(name);
}

/**
 * Serialises one WARC/1.1 `response` record with an HTTP 200 payload (used by tests and the
 * benchmark to make inputs; gzip each record separately for a `.warc.gz`).
 */
export function warcResponseRecord(
  url: string,
  payload: string | Uint8Array,
  contentType = "text/html; charset=utf-8",
  index = 0,
): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload);
  const http = Buffer.concat([
    Buffer.from(
      `HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`,
    ),
    body,
  ]);
  const id = `<urn:uuid:00000000-0000-4000-8000-${String(index).padStart(12, "0")}>`;
  const head =
    "WARC/1.1\r\nWARC-Type: response\r\n" +
    `WARC-Record-ID: ${id}\r\nWARC-Date: 2026-01-01T00:00:00Z\r\n` +
    `WARC-Target-URI: ${url}\r\nContent-Type: application/http; msgtype=response\r\n` +
    `Content-Length: ${http.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), http, CRLF2]);
}
