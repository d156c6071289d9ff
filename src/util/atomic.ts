/**
 * Atomic outputs: everything is written to a temp file beside its destination, then renamed,
 * so a reader (or a rerun after SIGKILL) never sees a half-written file.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

const TMP_MARK = ".tmp-";

/** The temp path used for `path` (same directory, so the rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${TMP_MARK}${basename(path)}.${randomBytes(4).toString("hex")}`);
}

/** True if a directory entry is a leftover temp file of an interrupted write. */
export function isTempName(name: string): boolean {
  return name.startsWith(TMP_MARK);
}

/** Writes `data` to `path` atomically (fsync, then rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
}

/** Writes JSON (pretty, trailing newline) atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** A stream to a temp file that becomes `path` only when `commit()` is called. */
export class AtomicWriteStream {
  readonly path: string;
  readonly tempPath: string;
  readonly stream: WriteStream;
  #done = false;

  private constructor(path: string) {
    this.path = path;
    this.tempPath = tempPathFor(path);
    this.stream = createWriteStream(this.tempPath);
  }

  static async create(path: string): Promise<AtomicWriteStream> {
    await mkdir(dirname(path), { recursive: true });
    const s = new AtomicWriteStream(path);
    await new Promise<void>((resolve, reject) => {
      s.stream.once("open", () => resolve());
      s.stream.once("error", reject);
    });
    return s;
  }

  /** Writes a chunk, waiting for drain when the buffer is full. */
  async write(chunk: string | Uint8Array): Promise<void> {
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        this.stream.once("error", onError);
        this.stream.once("drain", () => {
          this.stream.off("error", onError);
          resolve();
        });
      });
    }
  }

  /** Flushes, fsyncs and renames the temp file onto the destination. */
  async commit(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await new Promise<void>((resolve, reject) => {
      this.stream.once("error", reject);
      this.stream.end(() => resolve());
    });
    const fh = await open(this.tempPath, "r+");
    await fh.sync();
    await fh.close();
    await rename(this.tempPath, this.path);
  }

  /** Discards the temp file (on error or cancel). */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.stream.destroy();
    await rm(this.tempPath, { force: true });
  }
}

/** Removes temp files left in `dir` by a killed process. Returns how many were removed. */
export async function cleanTempFiles(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const stale = names.filter(isTempName);
  await Promise.all(stale.map((n) => rm(join(dir, n), { force: true })));
  return stale.length;
}
