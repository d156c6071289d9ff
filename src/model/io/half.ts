/**
 * 16-bit floats as stored in safetensors and GGUF files (Node 20 has no Float16Array).
 *
 *   IEEE half (F16):  1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
 *   bfloat16 (BF16):  1 sign bit, 8 exponent bits (bias 127), 7 mantissa bits — the top half of an
 *                     f32, so BF16 → F32 is a 16-bit shift.
 *
 * F32 → F16 rounds to nearest, ties to even (what numpy, PyTorch and ggml do), with subnormals,
 * overflow to ±Infinity and NaN kept NaN.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One f32 value → its f16 bit pattern (round to nearest even). */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // Inf or NaN
  // Unbiased exponent e = exp - 127; f16 stores e + 15.
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: infinity
  if (e <= 0) {
    // Subnormal f16 (or zero): value = mant16 * 2^-24. Shift the full 24-bit significand.
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    mant |= 0x800000; // the implicit leading 1
    const shift = 14 - e; // 24-bit significand → 10-bit subnormal mantissa
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m++; // may carry into the exponent: fine
    return sign | m;
  }
  // Normal: keep the top 10 of 23 mantissa bits, round on the 13 dropped ones.
  const rest = mant & 0x1fff;
  let h = sign | (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // carry may reach infinity: correct
  return h;
}

/** One f16 bit pattern → its value. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** F32 array → F16 bit patterns (normal range inline; the rare other cases via f32ToF16Bits). */
export function f32ToF16(src: Float32Array | ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  const f = src instanceof Float32Array ? src : Float32Array.from(src);
  const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
  for (let i = 0; i < f.length; i++) {
    const x = bits[i]!;
    const exp = (x >>> 23) & 0xff;
    // f16 normals: unbiased exponent −14..15, i.e. f32 exponent field 113..142.
    if (exp >= 113 && exp <= 142) {
      const rest = x & 0x1fff;
      let h = ((x >>> 16) & 0x8000) | ((exp - 112) << 10) | ((x >>> 13) & 0x3ff);
      if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
      out[i] = h;
    } else {
      out[i] = f32ToF16Bits(f[i]!);
    }
  }
  return out;
}

/** A table of all 65,536 f16 values (256 KiB), built on first use: decoding is then a lookup. */
let table: Float32Array | undefined;

/** F16 bit patterns → F32 values. */
export function f16ToF32(src: Uint16Array): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = f16BitsToF32(h);
  }
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
  return out;
}

/** BF16 bit patterns → F32 values (the bits become the high half of each f32). */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}
