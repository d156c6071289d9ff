/**
 * Where tensor numbers live.
 *
 * Every float32 buffer is a view into ONE shared WebAssembly memory, so that the same bytes can
 * be handed to OpenBLAS (through koffi), to our WebAssembly SIMD kernels, and to the worker
 * threads that run those kernels, without any copy.
 *
 * Buffers are recycled through a pool of free lists keyed by length: `alloc(n)` pops a free
 * buffer of exactly n floats or carves a new one from the end of the memory; `release(buf)`
 * pushes it back. A training step asks for the same lengths every time, so after the first
 * step it is served entirely from the free lists and the memory stops growing.
 *
 * Scopes tie buffers to a piece of work: `scope(fn)` releases every buffer allocated inside
 * `fn` (intermediate activations and their gradients) when `fn` returns, except the ones
 * allocated with `persistent` (parameters, their gradients, optimizer state).
 */

const PAGE = 65536;
const ALIGN = 64; // bytes; one cache line, and enough for any SIMD load

/** The one shared memory (4 GiB maximum, grown on demand). */
export const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });

let top = 1024; // bytes below are reserved for the worker control block (see wasm/pool.ts)
const free = new Map<number, Float32Array[]>();
let liveBytes = 0;
/** Every SharedArrayBuffer object the memory has handed out (a new one after each grow). */
const buffers = new Set<ArrayBufferLike>();
let grows = 0;

/** Bytes reserved at the start of memory for thread synchronisation. */
export const CONTROL_BYTES = 1024;

function carve(n: number): Float32Array {
  const bytes = Math.ceil((n * 4) / ALIGN) * ALIGN || ALIGN;
  const end = top + bytes;
  const have = memory.buffer.byteLength;
  if (end > have) {
    const pages = Math.ceil((end - have) / PAGE);
    const extra = Math.max(pages, Math.ceil(have / PAGE / 4)); // grow by >= 25% at a time
    try {
      memory.grow(Math.min(extra, 65536 - have / PAGE));
    } catch {
      throw new Error(`tensor memory exhausted: cannot grow past ${have} bytes for ${n} floats`);
    }
    grows++;
  }
  const buf = memory.buffer as SharedArrayBuffer;
  buffers.add(buf);
  const view = new Float32Array(buf, top, n);
  top = end;
  return view;
}

let zeroFill: (buf: Float32Array) => void = (buf) => {
  buf.fill(0);
};

/** Replaces how large buffers are zeroed (the wasm kernels install a threaded memset). */
export function setZeroFill(f: (buf: Float32Array) => void): void {
  zeroFill = f;
}

interface Scope {
  bufs: Float32Array[];
}
const scopes: Scope[] = [];
let persistentDepth = 0;

/** A float32 buffer of n numbers (contents undefined unless `zero`). */
export function alloc(n: number, zero = false): Float32Array {
  const list = free.get(n);
  const buf = list && list.length > 0 ? list.pop()! : carve(n);
  if (zero) zeroFill(buf);
  liveBytes += n * 4;
  if (persistentDepth === 0 && scopes.length > 0) scopes[scopes.length - 1]!.bufs.push(buf);
  return buf;
}

/** Returns a buffer to the pool. Only buffers from `alloc` may be released, once. */
export function release(buf: Float32Array): void {
  let list = free.get(buf.length);
  if (!list) free.set(buf.length, (list = []));
  list.push(buf);
  liveBytes -= buf.length * 4;
}

/** Runs fn; every buffer allocated inside (and not persistent) is released when it returns. */
export function scope<T>(fn: () => T): T {
  const s: Scope = { bufs: [] };
  scopes.push(s);
  try {
    return fn();
  } finally {
    scopes.pop();
    for (const b of s.bufs) release(b);
  }
}

/** Runs fn with allocations that outlive any enclosing scope (parameters, optimizer state). */
export function persistent<T>(fn: () => T): T {
  persistentDepth++;
  try {
    return fn();
  } finally {
    persistentDepth--;
  }
}

/** Memory statistics: bytes carved from the wasm memory, bytes in use, times it grew. */
export function memoryStats(): { carvedBytes: number; liveBytes: number; grows: number } {
  return { carvedBytes: top, liveBytes, grows };
}

/** True if the view lies in the shared memory (so wasm kernels and workers can use it). */
export function inMemory(a: ArrayBufferView): boolean {
  return buffers.has(a.buffer);
}

/** A view of the current memory as Int32 (for control blocks and integer side inputs). */
export function int32View(): Int32Array {
  const b = memory.buffer as SharedArrayBuffer;
  buffers.add(b);
  return new Int32Array(b);
}
