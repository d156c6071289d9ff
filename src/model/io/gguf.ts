/**
 * GGUF version 3: the single-file model format of llama.cpp (and so of LM Studio and Ollama).
 *
 * Every byte, in order (all integers little-endian; "string" = u64 byte length + UTF-8 bytes,
 * no terminating zero):
 *
 *   u32    magic            0x46554747, the bytes "G" "G" "U" "F"
 *   u32    version          3
 *   u64    tensor_count
 *   u64    kv_count
 *   kv_count × key/value:
 *          string  key      e.g. "general.architecture" (lower_snake, dot-separated)
 *          u32     type     one of GgufType below
 *          value            u8 i8 u16 i16 u32 i32 f32 bool(1 byte) string u64 i64 f64, or an
 *                           ARRAY: u32 element type, u64 count, then count elements
 *   tensor_count × tensor info:
 *          string  name     e.g. "blk.0.attn_qkv.weight"
 *          u32     n_dims   1..4
 *          u64 × n_dims     ggml dims ne[0], ne[1], …: ne[0] is the fastest-varying (contiguous)
 *                           one, so a row-major [rows, cols] matrix has ne = [cols, rows]
 *          u32     type     ggml type: 0 = F32, 1 = F16
 *          u64     offset   of the tensor's bytes from the start of the data section, a multiple
 *                           of the alignment
 *   zero padding up to a multiple of the alignment (`general.alignment`, default 32)
 *   the data section: each tensor's bytes, zero-padded to the alignment between tensors
 *
 * `writeGguf` writes atomically (temp file + rename); `readGguf` reads the whole file once and
 * returns typed-array views into it where the data is aligned.
 */
import { readFile } from "node:fs/promises";
import { UserError } from "../../util/errors.js";
import { f16ToF32, f32ToF16 } from "./half.js";
import { writeChunksAtomic } from "./write-chunks.js";

/** GGUF metadata value types (gguf.h `gguf_type`). */
export enum GgufType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** ggml tensor types this module reads and writes (ggml.h `ggml_type`). */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
}

export const GGUF_MAGIC = 0x46554747;
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

type Scalar = number | bigint | boolean | string;

/** One metadata entry. Arrays hold elements of `itemType`. */
export type GgufValue =
  | { type: Exclude<GgufType, GgufType.ARRAY>; value: Scalar }
  | { type: GgufType.ARRAY; itemType: Exclude<GgufType, GgufType.ARRAY>; value: Scalar[] };

/** Helpers that spell the type of a metadata value. */
export const kv = {
  u32: (value: number): GgufValue => ({ type: GgufType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: GgufType.INT32, value }),
  f32: (value: number): GgufValue => ({ type: GgufType.FLOAT32, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufType.BOOL, value }),
  str: (value: string): GgufValue => ({ type: GgufType.STRING, value }),
  strings: (value: string[]): GgufValue => ({
    type: GgufType.ARRAY,
    itemType: GgufType.STRING,
    value,
  }),
  i32s: (value: number[]): GgufValue => ({ type: GgufType.ARRAY, itemType: GgufType.INT32, value }),
};

/** A tensor to write: row-major `shape` (as in PyTorch), float32 values stored as F32 or F16. */
export interface GgufTensorIn {
  name: string;
  shape: number[];
  data: Float32Array;
  type: GgmlType;
}

/** A tensor read back. `shape` is row-major (ggml dims reversed); `ne` is ggml's order. */
export interface GgufTensor {
  name: string;
  shape: number[];
  ne: number[];
  type: GgmlType;
  /** F32: Float32Array; F16: raw half bit patterns. */
  raw: Float32Array | Uint16Array;
  /** Byte offset of the data inside the file. */
  fileOffset: number;
}

export interface GgufFile {
  version: number;
  alignment: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensor[];
}

/** A tensor's values as float32 (F32 data is returned as is). */
export function ggufTensorF32(t: GgufTensor): Float32Array {
  return t.type === GgmlType.F32 ? (t.raw as Float32Array) : f16ToF32(t.raw as Uint16Array);
}

const SCALAR_SIZE: Partial<Record<GgufType, number>> = {
  [GgufType.UINT8]: 1,
  [GgufType.INT8]: 1,
  [GgufType.UINT16]: 2,
  [GgufType.INT16]: 2,
  [GgufType.UINT32]: 4,
  [GgufType.INT32]: 4,
  [GgufType.FLOAT32]: 4,
  [GgufType.BOOL]: 1,
  [GgufType.UINT64]: 8,
  [GgufType.INT64]: 8,
  [GgufType.FLOAT64]: 8,
};

const utf8 = new TextEncoder();

/** A growable little-endian byte buffer. */
class ByteWriter {
  buf = new Uint8Array(1 << 16);
  dv = new DataView(this.buf.buffer);
  n = 0;

  reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }
  u8(v: number) {
    this.reserve(1);
    this.dv.setUint8(this.n, v);
    this.n += 1;
  }
  u32(v: number) {
    this.reserve(4);
    this.dv.setUint32(this.n, v, true);
    this.n += 4;
  }
  u64(v: number | bigint) {
    this.reserve(8);
    this.dv.setBigUint64(this.n, BigInt(v), true);
    this.n += 8;
  }
  bytes(b: Uint8Array) {
    this.reserve(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  string(s: string) {
    const b = utf8.encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  pad(alignment: number) {
    const k = (alignment - (this.n % alignment)) % alignment;
    this.reserve(k);
    this.buf.fill(0, this.n, this.n + k);
    this.n += k;
  }
  scalar(type: GgufType, v: Scalar, key: string) {
    const size = SCALAR_SIZE[type];
    if (type === GgufType.STRING) {
      if (typeof v !== "string") throw new Error(`gguf key ${key}: expected a string`);
      this.string(v);
      return;
    }
    if (size === undefined) throw new Error(`gguf key ${key}: bad value type ${type}`);
    this.reserve(size);
    const at = this.n;
    const dv = this.dv;
    switch (type) {
      case GgufType.UINT8:
        dv.setUint8(at, Number(v));
        break;
      case GgufType.INT8:
        dv.setInt8(at, Number(v));
        break;
      case GgufType.UINT16:
        dv.setUint16(at, Number(v), true);
        break;
      case GgufType.INT16:
        dv.setInt16(at, Number(v), true);
        break;
      case GgufType.UINT32:
        dv.setUint32(at, Number(v), true);
        break;
      case GgufType.INT32:
        dv.setInt32(at, Number(v), true);
        break;
      case GgufType.FLOAT32:
        dv.setFloat32(at, Number(v), true);
        break;
      case GgufType.BOOL:
        dv.setUint8(at, v ? 1 : 0);
        break;
      case GgufType.UINT64:
        dv.setBigUint64(at, BigInt(v), true);
        break;
      case GgufType.INT64:
        dv.setBigInt64(at, BigInt(v), true);
        break;
      case GgufType.FLOAT64:
        dv.setFloat64(at, Number(v), true);
        break;
    }
    this.n += size;
  }
}

/**
 * Serializes a GGUF v3 file. `metadata` is written in insertion order; `general.alignment` is
 * honoured if present (u32), else 32 is used and not written.
 */
export function serializeGguf(
  metadata: Map<string, GgufValue>,
  tensors: GgufTensorIn[],
): Uint8Array {
  return new Uint8Array(Buffer.concat(ggufChunks(metadata, tensors)));
}

/** The file as chunks: header, metadata, tensor infos and padding, then each tensor + padding. */
export function ggufChunks(
  metadata: Map<string, GgufValue>,
  tensors: GgufTensorIn[],
): Uint8Array[] {
  const alignV = metadata.get("general.alignment");
  const alignment = alignV ? Number(alignV.value) : GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) {
    throw new UserError(`general.alignment must be a positive multiple of 8, got ${alignment}`);
  }
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new UserError(`duplicate tensor ${t.name}`);
    names.add(t.name);
    let count = 1;
    for (const d of t.shape) count *= d;
    if (count !== t.data.length || t.shape.length < 1 || t.shape.length > 4) {
      throw new UserError(
        `tensor ${t.name}: ${t.data.length} values do not fill shape [${t.shape}]`,
      );
    }
  }
  // Tensor payloads (converted to their stored type) and their offsets in the data section.
  const payloads = tensors.map((t) =>
    t.type === GgmlType.F32
      ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
      : new Uint8Array(f32ToF16(t.data).buffer),
  );
  const offsets: number[] = [];
  let dataSize = 0;
  for (const p of payloads) {
    offsets.push(dataSize);
    dataSize += p.length;
    dataSize += (alignment - (dataSize % alignment)) % alignment;
  }

  const w = new ByteWriter();
  // --- header ---
  w.u32(GGUF_MAGIC); // "GGUF"
  w.u32(GGUF_VERSION); // 3
  w.u64(tensors.length); // tensor_count
  w.u64(metadata.size); // kv_count
  // --- metadata key/values ---
  for (const [key, v] of metadata) {
    w.string(key);
    w.u32(v.type);
    if (v.type === GgufType.ARRAY) {
      w.u32(v.itemType);
      w.u64(v.value.length);
      for (const item of v.value) w.scalar(v.itemType, item, key);
    } else {
      w.scalar(v.type, v.value, key);
    }
  }
  // --- tensor infos ---
  tensors.forEach((t, i) => {
    w.string(t.name);
    w.u32(t.shape.length); // n_dims
    for (let d = t.shape.length - 1; d >= 0; d--) w.u64(t.shape[d]!); // ne[0] = last (fastest) dim
    w.u32(t.type);
    w.u64(offsets[i]!);
  });
  w.pad(alignment);
  // --- data section: each tensor, then zeros up to the alignment ---
  const chunks: Uint8Array[] = [w.buf.subarray(0, w.n)];
  const zeros = new Uint8Array(alignment);
  for (const p of payloads) {
    chunks.push(p);
    const pad = (alignment - (p.length % alignment)) % alignment;
    if (pad) chunks.push(zeros.subarray(0, pad));
  }
  return chunks;
}

/** Writes a GGUF file atomically. */
export async function writeGguf(
  path: string,
  metadata: Map<string, GgufValue>,
  tensors: GgufTensorIn[],
): Promise<void> {
  await writeChunksAtomic(path, ggufChunks(metadata, tensors));
}

/** Reads GGUF bytes, checking every length against the buffer. `where` names the file. */
export function parseGguf(buf: Uint8Array, where = "gguf data"): GgufFile {
  const bad = (msg: string) =>
    new UserError(`${where}: ${msg}`, "the file is truncated or not a GGUF file; export it again");
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dec = new TextDecoder("utf-8", { fatal: true });
  let p = 0;
  const need = (k: number, what: string) => {
    if (p + k > buf.length) throw bad(`ends inside ${what} (byte ${p}, need ${k} more)`);
  };
  const u32 = (what: string) => {
    need(4, what);
    const v = dv.getUint32(p, true);
    p += 4;
    return v;
  };
  const u64 = (what: string) => {
    need(8, what);
    const v = dv.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${what} ${v} is implausible`);
    return Number(v);
  };
  const str = (what: string) => {
    const n = u64(`${what} length`);
    need(n, what);
    const s = dec.decode(buf.subarray(p, p + n));
    p += n;
    return s;
  };
  const scalar = (type: GgufType, what: string): Scalar => {
    if (type === GgufType.STRING) return str(what);
    const size = SCALAR_SIZE[type];
    if (size === undefined) throw bad(`${what}: unknown value type ${type}`);
    need(size, what);
    const at = p;
    p += size;
    switch (type) {
      case GgufType.UINT8:
        return dv.getUint8(at);
      case GgufType.INT8:
        return dv.getInt8(at);
      case GgufType.UINT16:
        return dv.getUint16(at, true);
      case GgufType.INT16:
        return dv.getInt16(at, true);
      case GgufType.UINT32:
        return dv.getUint32(at, true);
      case GgufType.INT32:
        return dv.getInt32(at, true);
      case GgufType.FLOAT32:
        return dv.getFloat32(at, true);
      case GgufType.BOOL:
        return dv.getUint8(at) !== 0;
      case GgufType.UINT64:
        return dv.getBigUint64(at, true);
      case GgufType.INT64:
        return dv.getBigInt64(at, true);
      default:
        return dv.getFloat64(at, true);
    }
  };

  if (u32("magic") !== GGUF_MAGIC) throw bad('does not start with "GGUF"');
  const version = u32("version");
  if (version !== 3) {
    throw new UserError(`${where}: GGUF version ${version}; chatforge reads version 3`);
  }
  const nTensors = u64("tensor count");
  const nKv = u64("metadata count");
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = str(`metadata key ${i}`);
    const type = u32(`type of ${key}`) as GgufType;
    if (type === GgufType.ARRAY) {
      const itemType = u32(`item type of ${key}`) as GgufType;
      if (itemType === GgufType.ARRAY) throw bad(`${key}: nested arrays are not supported`);
      const n = u64(`length of ${key}`);
      const value: Scalar[] = new Array(n);
      for (let k = 0; k < n; k++) value[k] = scalar(itemType, `${key}[${k}]`);
      metadata.set(key, { type, itemType, value } as GgufValue);
    } else {
      metadata.set(key, { type, value: scalar(type, key) } as GgufValue);
    }
  }
  const alignV = metadata.get("general.alignment");
  const alignment = alignV ? Number(alignV.value) : GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0)
    throw bad(`bad general.alignment ${alignment}`);
  const infos: { name: string; ne: number[]; type: GgmlType; offset: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str(`tensor name ${i}`);
    const nDims = u32(`dims of ${name}`);
    if (nDims < 1 || nDims > 4) throw bad(`tensor ${name}: ${nDims} dimensions`);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(u64(`dim ${d} of ${name}`));
    const type = u32(`type of ${name}`);
    if (type !== GgmlType.F32 && type !== GgmlType.F16) {
      throw new UserError(
        `${where}: tensor ${name} has ggml type ${type}; chatforge reads F32 (0) and F16 (1)`,
      );
    }
    const offset = u64(`offset of ${name}`);
    if (offset % alignment !== 0) throw bad(`tensor ${name}: offset ${offset} is not aligned`);
    infos.push({ name, ne, type, offset });
  }
  p += (alignment - (p % alignment)) % alignment;
  const dataStart = p;
  const tensors: GgufTensor[] = [];
  const seen = new Set<string>();
  for (const t of infos) {
    if (seen.has(t.name)) throw bad(`tensor ${t.name} appears twice`);
    seen.add(t.name);
    let count = 1;
    for (const d of t.ne) count *= d;
    const size = t.type === GgmlType.F32 ? 4 : 2;
    const at = dataStart + t.offset;
    if (at + count * size > buf.length) {
      throw bad(
        `tensor ${t.name} (${count * size} bytes at ${at}) runs past the end (${buf.length})`,
      );
    }
    const abs = buf.byteOffset + at;
    let raw: Float32Array | Uint16Array;
    if (abs % size === 0) {
      raw =
        size === 4
          ? new Float32Array(buf.buffer, abs, count)
          : new Uint16Array(buf.buffer, abs, count);
    } else {
      const copy = buf.slice(at, at + count * size);
      raw = size === 4 ? new Float32Array(copy.buffer) : new Uint16Array(copy.buffer);
    }
    tensors.push({
      name: t.name,
      ne: t.ne,
      shape: [...t.ne].reverse(),
      type: t.type,
      raw,
      fileOffset: at,
    });
  }
  // Overlap check: sorted by offset, each tensor must end before the next begins.
  const sorted = [...tensors].sort((a, b) => a.fileOffset - b.fileOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    if (prev.fileOffset + prev.raw.byteLength > sorted[i]!.fileOffset) {
      throw bad(`tensors ${prev.name} and ${sorted[i]!.name} overlap`);
    }
  }
  return { version, alignment, metadata, tensors };
}

/** Reads a GGUF file (one read of the whole file). */
export async function readGguf(path: string): Promise<GgufFile> {
  return parseGguf(await readFile(path), path);
}

/** A metadata value, type-checked: `UserError` naming the key if missing or of another type. */
export function ggufGet(file: GgufFile, key: string, type: GgufType, where = "gguf"): Scalar {
  const v = file.metadata.get(key);
  if (!v) throw new UserError(`${where}: metadata key ${key} is missing`);
  if (v.type !== type) throw new UserError(`${where}: ${key} has type ${v.type}, expected ${type}`);
  return v.value as Scalar;
}
