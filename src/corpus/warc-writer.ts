/**
 * Writes corpus documents as gzipped WARC/1.1 files (one gzip member per record, as Common
 * Crawl does), spread over N files of about equal size: each record goes to the file that is
 * currently smallest. Files are written under temp names and renamed only by `commit()`, so a
 * killed build leaves no partial `.warc.gz` behind.
 *
 * Every file starts with a `warcinfo` record; every document is a `response` record with a
 * stable WARC-Record-ID, WARC-Target-URI, WARC-Date, and an HTTP/1.1 status line and headers.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { WARCRecord, WARCSerializer } from "warcio";
import { AtomicWriteStream } from "../util/atomic.js";
import { packageVersion } from "../util/versions.js";
import { type CorpusDoc, stableRecordId } from "./document.js";

export interface WarcFileStats {
  name: string;
  records: number;
  /** Bytes on disk (compressed). */
  bytes: number;
}

/** `corpus-00003.warc.gz` for index 3. */
export function warcFileName(prefix: string, i: number): string {
  return `${prefix}-${String(i).padStart(5, "0")}.warc.gz`;
}

/** RFC 7231 date for the HTTP `Date` header. */
function httpDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? new Date(0).toUTCString() : d.toUTCString();
}

export class ShardedWarcWriter {
  readonly dir: string;
  readonly prefix: string;
  readonly #files: AtomicWriteStream[];
  readonly #stats: WarcFileStats[];
  readonly #infoIds: string[];

  private constructor(dir: string, prefix: string, files: AtomicWriteStream[]) {
    this.dir = dir;
    this.prefix = prefix;
    this.#files = files;
    this.#stats = files.map((_, i) => ({ name: warcFileName(prefix, i), records: 0, bytes: 0 }));
    this.#infoIds = files.map((_, i) => stableRecordId(`warcinfo:${warcFileName(prefix, i)}`));
  }

  /** Opens `n` temp files in `dir` and writes their warcinfo records. */
  static async open(
    dir: string,
    n: number,
    prefix = "corpus",
    date = "2026-01-01T00:00:00Z",
  ): Promise<ShardedWarcWriter> {
    const files: AtomicWriteStream[] = [];
    try {
      for (let i = 0; i < n; i++)
        files.push(await AtomicWriteStream.create(join(dir, warcFileName(prefix, i))));
    } catch (err) {
      await Promise.all(files.map((f) => f.abort()));
      throw err;
    }
    const w = new ShardedWarcWriter(dir, prefix, files);
    for (let i = 0; i < n; i++) {
      const info = WARCRecord.createWARCInfo(
        {
          filename: warcFileName(prefix, i),
          warcVersion: "WARC/1.1",
          date,
          warcHeaders: { "WARC-Record-ID": w.#infoIds[i]! },
        },
        {
          software: `chatforge/${packageVersion()} (warcio.js)`,
          format: "WARC File Format 1.1",
          conformsTo:
            "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
          description: "crawl-like corpus built by `chatforge corpus build`",
        },
      );
      await w.#append(i, await WARCSerializer.serialize(info, { gzip: true }), false);
    }
    return w;
  }

  async #append(i: number, bytes: Uint8Array, isDoc = true): Promise<void> {
    await this.#files[i]!.write(bytes);
    this.#stats[i]!.bytes += bytes.length;
    if (isDoc) this.#stats[i]!.records++;
  }

  /** Serializes one document as a gzipped `response` record into the smallest file. */
  async write(doc: CorpusDoc): Promise<number> {
    let target = 0;
    for (let i = 1; i < this.#stats.length; i++) {
      if (this.#stats[i]!.bytes < this.#stats[target]!.bytes) target = i;
    }
    const httpHeaders: Record<string, string> = {
      Date: httpDate(doc.date),
      Server: "nginx",
      ...doc.httpHeaders,
      "Content-Type": doc.contentType,
      "Content-Length": String(doc.body.length),
    };
    const record = WARCRecord.create(
      {
        url: doc.url,
        date: doc.date,
        type: "response",
        warcVersion: "WARC/1.1",
        statusline: doc.statusline ?? "HTTP/1.1 200 OK",
        httpHeaders,
        warcHeaders: {
          "WARC-Record-ID": doc.recordId ?? stableRecordId(`${doc.source}\n${doc.url}`),
          "WARC-Warcinfo-ID": this.#infoIds[target]!,
        },
      },
      [doc.body],
    );
    const bytes = await WARCSerializer.serialize(record, { gzip: true });
    await this.#append(target, bytes);
    return bytes.length;
  }

  get stats(): WarcFileStats[] {
    return this.#stats.map((s) => ({ ...s }));
  }

  /** Makes all files visible (rename), then removes older files of the same prefix beyond N. */
  async commit(): Promise<WarcFileStats[]> {
    for (const f of this.#files) await f.commit();
    const keep = new Set(this.#stats.map((s) => s.name));
    const stale = (await readdir(this.dir)).filter(
      (n) => n.startsWith(`${this.prefix}-`) && n.endsWith(".warc.gz") && !keep.has(n),
    );
    await Promise.all(stale.map((n) => rm(join(this.dir, n), { force: true })));
    return this.stats;
  }

  /** Discards every temp file. */
  async abort(): Promise<void> {
    await Promise.all(this.#files.map((f) => f.abort()));
  }
}
