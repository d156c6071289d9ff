/**
 * Writes a file made of several byte chunks atomically (temp file, fsync, rename) without first
 * concatenating them: a 500 MB checkpoint is written straight from the tensors' own buffers.
 */
import { type FileHandle, mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { tempPathFor } from "../../util/atomic.js";

/** Chunks below this size are gathered before writing. */
const SMALL = 1 << 20;

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let rest = bytes;
  while (rest.length > 0) {
    const { bytesWritten } = await fh.write(rest);
    rest = rest.subarray(bytesWritten);
  }
}

/** Chunks are written in order; small ones are gathered into one buffer to save system calls. */
export async function writeChunksAtomic(
  path: string,
  chunks: readonly Uint8Array[],
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fh = await open(tmp, "w");
  try {
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes > 0) await writeAll(fh, Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
    };
    for (const c of chunks) {
      if (c.length >= SMALL) {
        await flush();
        await writeAll(fh, c);
      } else {
        pending.push(c);
        pendingBytes += c.length;
        if (pendingBytes >= SMALL) await flush();
      }
    }
    await flush();
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
}
