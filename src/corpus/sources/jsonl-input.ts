/**
 * JSONL (optionally gzipped) with one `{"text": …, "url": …}` object per line, e.g. another
 * pipeline's output. Each line becomes a text/plain response; bad lines are counted as skips.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { UserError } from "../../util/errors.js";
import { type CorpusDoc, encoder } from "../document.js";
import type { SourceContext } from "./context.js";

export async function* jsonlSource(path: string, ctx: SourceContext): AsyncGenerator<CorpusDoc> {
  try {
    await stat(path);
  } catch {
    throw new UserError(`--jsonl ${path}: no such file`, "check the path");
  }
  let input: NodeJS.ReadableStream = createReadStream(path);
  if (path.endsWith(".gz")) input = input.pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (!line.trim()) continue;
      let obj: { text?: unknown; url?: unknown; date?: unknown };
      try {
        obj = JSON.parse(line);
      } catch {
        ctx.skip("invalid JSON", `${path}:${lineNo}`);
        continue;
      }
      if (typeof obj.text !== "string" || !obj.text) {
        ctx.skip('no "text" string', `${path}:${lineNo}`);
        continue;
      }
      const url =
        typeof obj.url === "string" && obj.url
          ? obj.url
          : `https://jsonl.local.example/${encodeURIComponent(path)}#L${lineNo}`;
      const date =
        typeof obj.date === "string" && !Number.isNaN(Date.parse(obj.date))
          ? `${new Date(obj.date).toISOString().slice(0, 19)}Z`
          : "2026-01-01T00:00:00Z";
      yield {
        url,
        contentType: "text/plain; charset=utf-8",
        body: encoder.encode(obj.text),
        source: `jsonl:${path}`,
        date,
      };
    }
  } catch (err) {
    ctx.skip(`unreadable after line ${lineNo} (${(err as Error).message})`, path);
  }
}
