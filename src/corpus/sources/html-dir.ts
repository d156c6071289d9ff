/**
 * A local directory of HTML and text files (a site dump, Debian's HTML documentation).
 * Each file becomes one response; its URL is derived from its path under the directory.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join, relative, resolve, sep } from "node:path";
import { UserError } from "../../util/errors.js";
import type { CorpusDoc } from "../document.js";
import type { SourceContext } from "./context.js";

const HTML_EXT = new Set([".html", ".htm", ".xhtml", ".shtml"]);
const TEXT_EXT = new Set([".txt", ".text", ".md", ".rst"]);
/** Files larger than this are skipped (a crawler truncates or drops them too). */
export const MAX_FILE_BYTES = 32 << 20;

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** The charset an HTML file declares in a `<meta>` tag, lower-cased, if any. */
export function declaredCharset(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 2048)).toString("latin1");
  const m =
    /<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)/i.exec(head) ??
    /<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)/i.exec(head);
  return m?.[1]?.toLowerCase();
}

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    utf8Strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() || e.isSymbolicLink()) out.push(p);
  }
}

/** URL of a file: `https://<host>/<dir name>/<path under dir>`. */
export function urlForPath(root: string, file: string, host: string): string {
  const rel = relative(root, file).split(sep).map(encodeURIComponent).join("/");
  return `https://${host}/${encodeURIComponent(basename(root))}/${rel}`;
}

export async function* htmlDirSource(
  dir: string,
  ctx: SourceContext,
  host = "local.example",
): AsyncGenerator<CorpusDoc> {
  const root = resolve(dir);
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(root);
  } catch {
    throw new UserError(`--html-dir ${dir}: no such directory`, "check the path");
  }
  if (!st.isDirectory()) throw new UserError(`--html-dir ${dir}: not a directory`);
  const files: string[] = [];
  await walk(root, files);
  const wanted = files.filter(
    (f) => HTML_EXT.has(extname(f).toLowerCase()) || TEXT_EXT.has(extname(f).toLowerCase()),
  );
  if (wanted.length === 0) {
    throw new UserError(
      `--html-dir ${dir}: no HTML or text files found (looked for ${[...HTML_EXT, ...TEXT_EXT].join(" ")})`,
    );
  }
  const wantedSet = new Set(wanted);
  for (const f of files) {
    if (!wantedSet.has(f)) ctx.skip("not an HTML or text file", f);
  }
  for (const file of wanted) {
    let body: Buffer;
    let mtime: Date;
    try {
      const s = await stat(file);
      if (s.size > MAX_FILE_BYTES) {
        ctx.skip(`larger than ${MAX_FILE_BYTES >> 20} MiB`, file);
        continue;
      }
      body = await readFile(file);
      mtime = s.mtime;
    } catch (err) {
      ctx.skip(`unreadable (${(err as NodeJS.ErrnoException).code ?? "error"})`, file);
      continue;
    }
    if (body.length === 0) {
      ctx.skip("empty file", file);
      continue;
    }
    if (body.subarray(0, 8192).includes(0)) {
      ctx.skip("binary content (NUL bytes)", file);
      continue;
    }
    const isHtml = HTML_EXT.has(extname(file).toLowerCase());
    const declared = isHtml ? declaredCharset(body) : undefined;
    let charset = "utf-8";
    if (!isValidUtf8(body)) {
      if (declared && declared !== "utf-8" && declared !== "utf8") {
        charset = declared; // bytes pass through; the reader decodes with the declared charset
      } else {
        ctx.skip(
          `invalid UTF-8${declared ? " despite declared utf-8" : " and no declared charset"}`,
          file,
        );
        continue;
      }
    }
    yield {
      url: urlForPath(root, file, host),
      contentType: `${isHtml ? "text/html" : "text/plain"}; charset=${charset}`,
      body,
      source: `dir:${basename(root)}`,
      date: `${mtime.toISOString().slice(0, 19)}Z`,
    };
  }
}
