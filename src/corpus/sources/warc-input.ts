/**
 * Existing WARC / WARC.gz files (e.g. Common Crawl segments), passed through: every `response`
 * record keeps its URL, date, record ID, status line and HTTP headers; its payload is stored
 * decoded (chunked transfer and gzip content encoding removed, headers adjusted to match).
 * Other record types (request, metadata, warcinfo) are counted as skipped. A corrupt file
 * (truncated gzip member, wrong Content-Length) keeps the records read before the damage and
 * counts the rest as one skip naming the file, the record number and the byte offset.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { WARCParser } from "warcio";
import { UserError } from "../../util/errors.js";
import type { CorpusDoc } from "../document.js";
import type { SourceContext } from "./context.js";

const DROP_HTTP_HEADERS = new Set(["content-length", "content-encoding", "transfer-encoding"]);

export async function* warcSource(path: string, ctx: SourceContext): AsyncGenerator<CorpusDoc> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new UserError(`--warc ${path}: not a file`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`--warc ${path}: no such file`, "check the path");
  }
  const parser = new WARCParser(createReadStream(path));
  let n = 0;
  let offset = 0;
  try {
    for await (const record of parser) {
      n++;
      offset = parser.offset;
      const where = `${path} record ${n} @${offset}`;
      if (!record.warcType) {
        ctx.skip(
          "malformed WARC record without WARC-Type (the previous record's Content-Length may be wrong)",
          where,
        );
        await record.skipFully();
        continue;
      }
      if (record.warcType === "warcinfo") {
        await record.skipFully(); // file metadata, not a document
        continue;
      }
      if (record.warcType !== "response") {
        ctx.skip(`WARC record type ${record.warcType}`, where);
        await record.skipFully();
        continue;
      }
      const url = record.warcTargetURI;
      if (!url) {
        ctx.skip("response without WARC-Target-URI", where);
        await record.skipFully();
        continue;
      }
      const raw = await record.readFully(false);
      const problem = payloadProblem(record.httpHeaders?.headers, raw);
      if (problem) {
        ctx.skip(problem, where);
        continue;
      }
      let body: Uint8Array;
      try {
        body = decodePayload(record.httpHeaders?.headers, raw);
      } catch (err) {
        ctx.skip(`undecodable payload (${(err as Error).message})`, where);
        continue;
      }
      const http = record.httpHeaders;
      const headers: Record<string, string> = {};
      let contentType = "application/octet-stream";
      if (http) {
        for (const [k, v] of http.headers as Iterable<[string, string]>) {
          const lk = k.toLowerCase();
          if (lk === "content-type") contentType = v;
          else if (!DROP_HTTP_HEADERS.has(lk)) headers[k] = v;
        }
      }
      yield {
        url,
        contentType,
        body,
        source: `warc:${path}`,
        date: record.warcDate ?? "1970-01-01T00:00:00Z",
        httpHeaders: headers,
        statusline: http?.statusline ?? "HTTP/1.1 200 OK",
        recordId: record.warcHeader("WARC-Record-ID") ?? undefined,
      };
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    ctx.skip(
      `corrupt WARC after record ${n} (${msg.split("\n")[0]}); rest of file skipped`,
      `${path} @${offset}`,
    );
  }
  if (n === 0) ctx.skip("no WARC records", path);
}

type HeaderMap = { get(name: string): string | null | undefined } | undefined;

/** Why a raw payload cannot be trusted, or undefined: its length must match HTTP Content-Length. */
function payloadProblem(headers: HeaderMap, raw: Uint8Array): string | undefined {
  const te = headers?.get("Transfer-Encoding") ?? headers?.get("transfer-encoding");
  const cl = headers?.get("Content-Length") ?? headers?.get("content-length");
  if (cl == null || /chunked/i.test(te ?? "")) return undefined;
  const want = Number(cl);
  if (!Number.isFinite(want) || want === raw.length) return undefined;
  return want > raw.length
    ? `truncated record: payload has ${raw.length} of ${want} bytes (cut-off file or wrong Content-Length)`
    : `payload has ${raw.length} bytes but HTTP Content-Length says ${want} (wrong WARC Content-Length; later records of the file may be inside it)`;
}

/** Removes chunked transfer coding and gzip/deflate/br content coding. */
function decodePayload(headers: HeaderMap, raw: Uint8Array): Uint8Array {
  let out = raw;
  const te = headers?.get("Transfer-Encoding") ?? headers?.get("transfer-encoding");
  if (/chunked/i.test(te ?? "")) out = dechunk(out);
  const ce = (headers?.get("Content-Encoding") ?? headers?.get("content-encoding") ?? "")
    .toLowerCase()
    .trim();
  if (ce === "gzip" || ce === "x-gzip") out = gunzipSync(out);
  else if (ce === "deflate") out = inflateSync(out);
  else if (ce === "br") out = brotliDecompressSync(out);
  else if (ce && ce !== "identity") throw new Error(`unknown Content-Encoding ${ce}`);
  return out;
}

/** Decodes HTTP/1.1 chunked transfer coding (RFC 9112 §7.1). */
export function dechunk(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let pos = 0;
  for (;;) {
    let eol = data.indexOf(0x0a, pos);
    if (eol < 0) throw new Error("chunked body without a final chunk");
    const sizeLine = Buffer.from(data.subarray(pos, eol)).toString("latin1").split(";")[0]!.trim();
    const size = Number.parseInt(sizeLine, 16);
    if (!Number.isFinite(size) || size < 0) throw new Error(`bad chunk size "${sizeLine}"`);
    pos = eol + 1;
    if (size === 0) break;
    if (pos + size > data.length) throw new Error("truncated chunk");
    parts.push(data.subarray(pos, pos + size));
    pos += size;
    eol = data.indexOf(0x0a, pos);
    pos = eol < 0 ? data.length : eol + 1;
  }
  return Buffer.concat(parts);
}
