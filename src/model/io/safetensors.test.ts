import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../util/errors.js";
import { f16BitsToF32, f16ToF32, f32ToF16, f32ToF16Bits } from "./half.js";
import {
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  toFloat32,
  writeSafetensors,
} from "./safetensors.js";

test("f16: exact values, rounding to nearest even, subnormals, overflow", () => {
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(-2), 0xc000);
  assert.equal(f32ToF16Bits(65504), 0x7bff); // largest finite half
  assert.equal(f32ToF16Bits(65520), 0x7c00); // rounds up to infinity
  assert.equal(f32ToF16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000); // exactly half of it: ties to even (0)
  assert.equal(f32ToF16Bits(1.5 * 2 ** -25), 0x0001);
  assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie between 1 and 1+2^-10 → even (1)
  assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie → even (1+2^-9)
  assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(Number.NaN))));
  // Every finite half survives f16 → f32 → f16.
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00) continue;
    assert.equal(f32ToF16Bits(f16BitsToF32(h)), h, `half 0x${h.toString(16)}`);
  }
  // The array converter (fast path for normals) agrees with the scalar one everywhere.
  const many = new Float32Array(200_000);
  const bits = new Uint32Array(many.buffer);
  let seed = 1;
  for (let i = 0; i < bits.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    bits[i] = seed;
  }
  many.set([65504, 65519.99, 65520, 6.1035156e-5, 6.1e-5, -0, 1e-8, Number.POSITIVE_INFINITY]);
  const fast = f32ToF16(many);
  for (let i = 0; i < many.length; i++)
    assert.equal(fast[i], f32ToF16Bits(many[i]!), `value ${many[i]}`);
  const x = new Float32Array([0.1, -3.25, 1e-4, 1000.5]);
  const back = f16ToF32(f32ToF16(x));
  for (let i = 0; i < x.length; i++)
    assert.ok(Math.abs(back[i]! - x[i]!) <= Math.abs(x[i]!) / 1024);
});

test("safetensors: byte layout is the one HF's Rust writer produces", () => {
  // Two tensors: an F16 [2] and an F32 [1, 2]. The writer puts the 4-byte dtype first.
  const bytes = serializeSafetensors(
    {
      b: { shape: [2], data: new Float32Array([1, -2]), dtype: "F16" },
      a: { shape: [1, 2], data: new Float32Array([0.5, 3]) },
    },
    { format: "pt" },
  );
  const header =
    '{"__metadata__":{"format":"pt"},' +
    '"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},' +
    '"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}}';
  const padded = header + " ".repeat((8 - (header.length % 8)) % 8);
  assert.equal(padded.length % 8, 0);
  const expected = Buffer.concat([
    Buffer.from(new BigUint64Array([BigInt(padded.length)]).buffer), // u64 LE header length
    Buffer.from(padded, "utf8"),
    Buffer.from(new Float32Array([0.5, 3]).buffer), // a: F32 little-endian
    Buffer.from([0x00, 0x3c, 0x00, 0xc0]), // b: F16 1.0 = 0x3c00, -2.0 = 0xc000
  ]);
  assert.deepEqual(Buffer.from(bytes), expected);
});

test("safetensors: round trip through a file, atomically, with zero-copy views", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cf-st-"));
  try {
    const path = join(dir, "model.safetensors");
    const w = new Float32Array(24).map((_, i) => i / 7 - 1);
    await writeSafetensors(
      path,
      new Map([
        ["w", { shape: [4, 6], data: w }],
        ["h", { shape: [3], data: new Float32Array([0.25, 8, -1]), dtype: "F16" as const }],
        ["empty", { shape: [0, 3], data: new Float32Array(0) }],
      ]),
      { step: "7" },
    );
    assert.deepEqual(await readdir(dir), ["model.safetensors"]); // no temp file left
    const f = await readSafetensors(path);
    assert.deepEqual(f.metadata, { step: "7" });
    assert.deepEqual([...f.tensors.keys()].sort(), ["empty", "h", "w"]);
    const tw = f.tensors.get("w")!;
    assert.equal(tw.dtype, "F32");
    assert.deepEqual(tw.shape, [4, 6]);
    assert.deepEqual(toFloat32(tw), w);
    assert.deepEqual([...toFloat32(f.tensors.get("h")!)], [0.25, 8, -1]);
    // The two aligned tensors share one buffer (the file read).
    assert.equal(tw.data.buffer, f.tensors.get("h")!.data.buffer);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("safetensors: BF16 read, unaligned data copied", () => {
  const header = '{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}'; // 54 bytes, unpadded
  const buf = Buffer.concat([
    Buffer.from(new BigUint64Array([BigInt(header.length)]).buffer),
    Buffer.from(header),
    Buffer.from([0x80, 0x3f, 0x00, 0xc0]), // bf16 1.0 = 0x3f80, -2.0 = 0xc000
  ]);
  const f = parseSafetensors(
    new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)),
  );
  assert.deepEqual([...toFloat32(f.tensors.get("x")!)], [1, -2]);
});

function file(header: string, dataBytes: number): Uint8Array {
  const buf = Buffer.concat([
    Buffer.from(new BigUint64Array([BigInt(header.length)]).buffer),
    Buffer.from(header),
    Buffer.alloc(dataBytes),
  ]);
  return new Uint8Array(buf);
}

test("safetensors: clear errors for broken files", async () => {
  const good = serializeSafetensors({ w: { shape: [2, 2], data: new Float32Array(4) } });
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 5), /shorter than the 8-byte header length/],
    [good.subarray(0, 20), /runs past the end of the file/],
    [good.subarray(0, good.length - 1), /past the data|cover/],
    [
      file('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}', 12),
      /hold 12 bytes but F32 \[2\] needs 8/,
    ],
    [file('{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}', 8), /unknown dtype F33/],
    [
      file('{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', 8),
      /dtype I64; chatforge reads F32/,
    ],
    [
      file(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
        12,
      ),
      /tensors a and b overlap/,
    ],
    [
      file(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
        16,
      ),
      /tensor a appears twice/,
    ],
    [
      file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8),
      /bytes 0..4 of the data belong to no tensor/,
    ],
    [file("[1,2]", 0), /does not start with/],
    [file("{oops", 0), /not valid JSON/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(
      () => parseSafetensors(bytes, "m.safetensors"),
      (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.match(e.message, /^m\.safetensors: /);
        assert.match(e.message, re);
        return true;
      },
    );
  }
  // The path is named when reading a file.
  const dir = await mkdtemp(join(tmpdir(), "cf-st-"));
  try {
    const p = join(dir, "cut.safetensors");
    await writeFile(p, good.subarray(0, 30));
    await assert.rejects(readSafetensors(p), (e: Error) => e.message.includes(p));
    assert.equal((await readFile(p)).length, 30);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
