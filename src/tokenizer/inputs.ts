/**
 * Training text, streamed: plain text files, JSONL and JSONL.gz (one JSON object per line with a
 * "text" field — the data pipeline's output), or folders of them. Each document is handed out as
 * it is read, so inputs larger than memory are fine; only the chunk counts are kept.
 */
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { UserError } from "../util/errors.js";

/** Text files are handed out in pieces of about this many bytes. */
const PIECE = 1 << 20;

const TEXT_EXT = /\.(txt|md|text)$/i;
const JSONL_EXT = /\.jsonl(\.gz)?$/i;

/**
 * Expands folders (recursively, sorted) into the text and JSONL files they hold. A folder with
 * `clean-*.jsonl.gz` files (the data pipeline's output) stands for those files only.
 */
export async function listInputFiles(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of inputs) {
    const st = await stat(p).catch(() => {
      throw new UserError(`training input not found: ${p}`);
    });
    if (st.isDirectory()) {
      let names = (await readdir(p)).sort();
      // The data pipeline's output folder: only its clean-*.jsonl.gz files are training text
      // (not removed/ or work/).
      const clean = names.filter((n) => /^clean-.*\.jsonl(\.gz)?$/.test(n));
      if (clean.length) names = clean;
      const inner = await listInputFiles(
        names.filter((n) => !n.startsWith(".")).map((n) => join(p, n)),
      ).catch(() => []);
      out.push(...inner.filter((f) => TEXT_EXT.test(f) || JSONL_EXT.test(f)));
    } else {
      out.push(p);
    }
  }
  return out;
}

/** Total bytes of the files (for the progress bar). */
export async function totalBytes(files: string[]): Promise<number> {
  let n = 0;
  for (const f of files) n += (await stat(f)).size;
  return n;
}

/**
 * Yields the documents of one file. `onBytes` is told how many (compressed) bytes were read.
 * Plain text is cut into ~1 MB pieces at a newline that is followed by an ASCII letter or digit:
 * none of the built-in split patterns lets a chunk run across such a place, so the chunk counts
 * are the same as for the whole file at once.
 */
export async function* readDocuments(
  file: string,
  onBytes: (n: number) => void = () => {},
): AsyncGenerator<string> {
  if (JSONL_EXT.test(file)) {
    yield* readJsonl(file, onBytes);
    return;
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let carry = "";
  let offset = 0;
  const stream = createReadStream(file, { highWaterMark: PIECE });
  for await (const buf of stream as AsyncIterable<Buffer>) {
    let text: string;
    try {
      text = decoder.decode(buf, { stream: true });
    } catch {
      throw invalidUtf8(file, offset, buf);
    }
    offset += buf.length;
    onBytes(buf.length);
    carry += text;
    let cut = lastSafeCut(carry);
    // Text with no such place for 64 MB (no line starts with a letter or digit): cut after the
    // last newline anyway, so memory stays bounded (chunks at that one cut may differ slightly).
    if (cut === 0 && carry.length > 1 << 26) cut = carry.lastIndexOf("\n") + 1;
    if (cut > 0) {
      yield carry.slice(0, cut);
      carry = carry.slice(cut);
    }
  }
  try {
    carry += decoder.decode();
  } catch {
    throw invalidUtf8(file, offset, new Uint8Array(0));
  }
  if (carry) yield carry;
}

function invalidUtf8(file: string, offset: number, buf: Uint8Array): UserError {
  // Find the first bad byte within this buffer for a precise message.
  let at = offset;
  for (let i = 0; i < buf.length; i++) {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(0, i + 1), { stream: true });
    } catch {
      at = offset + i;
      break;
    }
  }
  return new UserError(
    `${file}: invalid UTF-8 near byte ${at}`,
    "convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8) or leave it out",
  );
}

/** The last offset just after a "\n" that is followed by [A-Za-z0-9], or 0. */
function lastSafeCut(s: string): number {
  for (let i = s.length - 2; i >= 0; i--) {
    if (s.charCodeAt(i) === 10) {
      const c = s.charCodeAt(i + 1);
      if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) {
        return i + 1;
      }
    }
  }
  return 0;
}

async function* readJsonl(file: string, onBytes: (n: number) => void): AsyncGenerator<string> {
  const raw = createReadStream(file, { highWaterMark: PIECE });
  raw.on("data", (b) => onBytes(b.length));
  const input = file.toLowerCase().endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let lineNo = 0;
  let carry = "";
  const parse = (line: string): string | undefined => {
    lineNo++;
    if (!line.trim()) return undefined;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      throw new UserError(`${file}:${lineNo}: not valid JSON`);
    }
    const text = (rec as { text?: unknown } | null)?.text;
    if (typeof text !== "string") {
      throw new UserError(`${file}:${lineNo}: expected an object with a string "text" field`);
    }
    return text;
  };
  try {
    for await (const buf of input as AsyncIterable<Buffer>) {
      try {
        carry += decoder.decode(buf, { stream: true });
      } catch {
        throw new UserError(
          `${file}: invalid UTF-8 after line ${lineNo}`,
          "fix the encoding of the file or leave it out",
        );
      }
      let start = 0;
      for (let nl = carry.indexOf("\n"); nl >= 0; nl = carry.indexOf("\n", start)) {
        const text = parse(carry.slice(start, nl));
        start = nl + 1;
        if (text !== undefined) yield text;
      }
      carry = carry.slice(start);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "Z_DATA_ERROR") {
      throw new UserError(`${file}: not a valid gzip file`);
    }
    throw err;
  }
  const text = parse(carry);
  if (text !== undefined) yield text;
}
