/**
 * safetensors: the checkpoint format of Hugging Face (`model.safetensors`).
 *
 * Byte layout (https://github.com/huggingface/safetensors, "Format"):
 *
 *   offset 0      u64 little-endian  N = byte length of the header
 *   offset 8      N bytes            JSON header, UTF-8, starting with '{'; it may end with spaces
 *                                    (0x20) so that the data that follows starts 8-byte aligned
 *   offset 8+N    the byte buffer    every tensor's bytes, row-major, little-endian
 *
 * The header maps each tensor name to
 *   {"dtype": "F32" | "F16" | "BF16" | …, "shape": [d0, d1, …], "data_offsets": [begin, end]}
 * with offsets relative to the start of the byte buffer (end exclusive), plus an optional
 * "__metadata__": {string: string}. Tensors must not overlap and must cover the buffer exactly.
 *
 * The writer produces what the Rust `safetensors` library produces: compact JSON, "__metadata__"
 * first, tensors ordered by dtype size (largest first) then by name, data packed with no gaps in
 * that order, header padded with spaces to a multiple of 8 bytes.
 *
 * The reader reads the file once into one buffer; a tensor whose bytes are aligned for its element
 * type is a typed-array view into that buffer (no copy), otherwise it is copied.
 */
import { readFile } from "node:fs/promises";
import { UserError } from "../../util/errors.js";
import { bf16ToF32, f16ToF32, f32ToF16 } from "./half.js";
import { writeChunksAtomic } from "./write-chunks.js";

/** Element types this module reads. */
export type SafetensorsDtype = "F32" | "F16" | "BF16";

/** A tensor as stored: F32 data as Float32Array, F16/BF16 as their raw 16-bit patterns. */
export interface StoredTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Uint16Array;
}

/** A float32 tensor in memory (row-major). */
export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/** Every dtype the format defines (so that an unknown one is told apart from an unsupported one). */
const KNOWN_DTYPES = new Set([
  "BOOL",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "F32",
  "F64",
  "I64",
  "U64",
]);

/** Header size limit of the reference implementation (100 MB): a larger N means a corrupt file. */
const MAX_HEADER = 100_000_000;

export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A stored tensor's values as float32 (F32 data is returned as is, not copied). */
export function toFloat32(t: StoredTensor): Float32Array {
  if (t.dtype === "F32") return t.data as Float32Array;
  if (t.dtype === "F16") return f16ToF32(t.data as Uint16Array);
  return bf16ToF32(t.data as Uint16Array);
}

/** Parses safetensors bytes. `where` names the file in error messages. */
export function parseSafetensors(buf: Uint8Array, where = "safetensors data"): SafetensorsFile {
  const bad = (msg: string) =>
    new UserError(
      `${where}: ${msg}`,
      "the file is truncated or not a safetensors file; re-save or re-download it",
    );
  if (buf.length < 8) throw bad(`only ${buf.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER) throw bad(`header length ${n} is implausible (over ${MAX_HEADER} bytes)`);
  if (8 + n > buf.length) {
    throw bad(`header length ${n} runs past the end of the file (${buf.length} bytes)`);
  }
  const headerText = new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(8, 8 + n));
  if (!headerText.startsWith("{")) throw bad("header does not start with '{'");
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message})`);
  }
  const dup = firstDuplicateKey(headerText);
  if (dup !== undefined) throw bad(`tensor ${dup} appears twice in the header`);
  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: {
    name: string;
    dtype: SafetensorsDtype;
    shape: number[];
    b: number;
    e: number;
  }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") {
      for (const [k, v] of Object.entries((info ?? {}) as Record<string, unknown>)) {
        if (typeof v !== "string") throw bad(`__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t?.dtype !== "string") throw bad(`tensor ${name}: missing dtype`);
    if (!KNOWN_DTYPES.has(t.dtype)) throw bad(`tensor ${name}: unknown dtype ${t.dtype}`);
    if (!(t.dtype in BYTES)) {
      throw new UserError(
        `${where}: tensor ${name} has dtype ${t.dtype}; chatforge reads F32, F16 and BF16`,
        "convert the checkpoint to float (e.g. torch: model.float()) and save it again",
      );
    }
    const dtype = t.dtype as SafetensorsDtype;
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw bad(`tensor ${name}: shape must be a list of non-negative integers`);
    }
    const off = t.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((x) => Number.isInteger(x) && x >= 0) ||
      off[0] > off[1]
    ) {
      throw bad(`tensor ${name}: data_offsets must be [begin, end] with 0 <= begin <= end`);
    }
    const [b, e] = off as [number, number];
    const want = product(shape) * BYTES[dtype];
    if (e - b !== want) {
      throw bad(
        `tensor ${name}: data_offsets [${b}, ${e}] hold ${e - b} bytes but ${dtype} ${JSON.stringify(shape)} needs ${want}`,
      );
    }
    if (e > dataLen) {
      throw bad(`tensor ${name}: data_offsets end ${e} is past the data (${dataLen} bytes)`);
    }
    entries.push({ name, dtype, shape, b, e });
  }
  // Tensors must tile the data: sorted by begin, each starts where the previous ended.
  const sorted = [...entries].sort((x, y) => x.b - y.b || x.e - y.e);
  let pos = 0;
  let prev = "";
  for (const t of sorted) {
    if (t.b < pos) throw bad(`tensors ${prev} and ${t.name} overlap (at byte ${t.b} of the data)`);
    if (t.b > pos) throw bad(`bytes ${pos}..${t.b} of the data belong to no tensor`);
    pos = t.e;
    prev = t.name;
  }
  if (pos !== dataLen) {
    throw bad(`the data is ${dataLen} bytes but the tensors cover ${pos}`);
  }
  const tensors = new Map<string, StoredTensor>();
  for (const t of entries) {
    const at = buf.byteOffset + dataStart + t.b;
    const count = product(t.shape);
    let data: Float32Array | Uint16Array;
    const size = BYTES[t.dtype];
    if (at % size === 0) {
      data =
        size === 4
          ? new Float32Array(buf.buffer, at, count)
          : new Uint16Array(buf.buffer, at, count);
    } else {
      const copy = buf.slice(dataStart + t.b, dataStart + t.e); // fresh, aligned buffer
      data = size === 4 ? new Float32Array(copy.buffer) : new Uint16Array(copy.buffer);
    }
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data });
  }
  return { tensors, metadata };
}

/**
 * The first top-level key of a JSON object text that occurs twice (JSON.parse silently keeps the
 * last one). Walks the text tracking nesting depth and string literals.
 */
function firstDuplicateKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === "{" || c === "[") {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
  }
  return undefined;
}

/** Reads a safetensors file (one read of the whole file). */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return parseSafetensors(await readFile(path), path);
}

/** A tensor to write: float32 values, stored as F32 (default) or F16. */
export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
  dtype?: "F32" | "F16";
}

/** The file as chunks: length + header, then each tensor's bytes (F32 data is not copied). */
export function safetensorsChunks(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  const list = [...(tensors instanceof Map ? tensors : Object.entries(tensors))].map(
    ([name, t]) => {
      const dtype = t.dtype ?? "F32";
      if (t.data.length !== product(t.shape)) {
        throw new UserError(
          `tensor ${name}: ${t.data.length} values do not fill shape ${JSON.stringify(t.shape)}`,
        );
      }
      return { name, dtype, t };
    },
  );
  if (new Set(list.map((x) => x.name)).size !== list.length) {
    throw new UserError("duplicate tensor names");
  }
  // Largest element size first (keeps every tensor aligned to its element size), then by name.
  list.sort(
    (a, b) => BYTES[b.dtype] - BYTES[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const payloads: Uint8Array[] = [];
  for (const { name, dtype, t } of list) {
    const bytes =
      dtype === "F32"
        ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
        : new Uint8Array(f32ToF16(t.data).buffer);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    payloads.push(bytes);
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const head = new Uint8Array(8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
  head.set(json, 8);
  return [head, ...payloads];
}

/** Serializes tensors (+ string metadata) to safetensors bytes, laid out as the Rust library does. */
export function serializeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  return new Uint8Array(Buffer.concat(safetensorsChunks(tensors, metadata)));
}

/** Writes a safetensors file atomically (temp file, fsync, rename). */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeChunksAtomic(path, safetensorsChunks(tensors, metadata));
}
