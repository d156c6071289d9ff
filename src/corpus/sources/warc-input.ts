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
      const body = await record.readFully(true);
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
