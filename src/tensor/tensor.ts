/**
 * Tensors and the reverse-mode autograd tape.
 *
 * A `Tensor` is a flat row-major buffer plus a shape. Float32 tensors (the fast path) live in
 * the shared WebAssembly memory (see memory.ts); float64 tensors are plain JS arrays and exist
 * for the reference path the tests use to check gradients by finite differences.
 *
 * Every op that produces a tensor needing a gradient pushes a closure on the tape;
 * `backward(loss)` runs the tape in reverse and accumulates into `.grad`. Inside `noGrad(fn)`
 * nothing is recorded. `setCheckFinite(true)` makes every op check its output and throw, naming
 * the op, at the first NaN or Inf.
 */
import { alloc, persistent } from "./memory.js";

export type Data = Float32Array | Float64Array;
export type DType = "f32" | "f64";

export class Tensor {
  /** The numbers, row-major, length = product of shape. */
  data: Data;
  readonly shape: readonly number[];
  /** Accumulated gradient (same length and dtype as data), allocated on first use. */
  grad: Data | null = null;
  requiresGrad: boolean;
  /** The op that produced this tensor (for error messages), or "param"/"input". */
  readonly op: string;
  /** Parameters and other long-lived tensors: their grad buffer is never scope-released. */
  persistent = false;
  /** A name for error messages and checkpoints (parameters). */
  name = "";

  constructor(data: Data, shape: readonly number[], requiresGrad = false, op = "input") {
    const n = numel(shape);
    if (data.length !== n) {
      throw new Error(`Tensor: data has ${data.length} numbers but shape [${shape}] needs ${n}`);
    }
    this.data = data;
    this.shape = shape;
    this.requiresGrad = requiresGrad;
    this.op = op;
  }

  get dtype(): DType {
    return this.data instanceof Float64Array ? "f64" : "f32";
  }
  get size(): number {
    return this.data.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** Size along one axis (negative counts from the end). */
  dim(axis: number): number {
    return this.shape[axis < 0 ? this.shape.length + axis : axis]!;
  }
  /** The scalar value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new Error(`item(): tensor has shape [${this.shape}]`);
    return this.data[0]!;
  }
  /** The gradient buffer, created zero-filled if absent. */
  ensureGrad(): Data {
    if (!this.grad) this.grad = zerosLike(this.data, this.persistent);
    return this.grad;
  }
  /**
   * The gradient buffer for an op to write into. `add` false: the buffer is new and its contents
   * undefined, so the caller overwrites all of it (a matmul with beta 0: no zero-fill and no
   * extra read); `add` true: it exists (or belongs to a parameter) and must be added to.
   */
  gradForWrite(): { g: Data; add: boolean } {
    if (this.grad || this.persistent) return { g: this.ensureGrad(), add: true };
    this.grad = empty(this.size, this.dtype);
    return { g: this.grad, add: false };
  }
  /** Same data, new shape (no copy; the gradient flows back unchanged). */
  reshape(shape: readonly number[]): Tensor {
    const s = resolveShape(shape, this.size, "reshape", this.shape);
    const out = new Tensor(this.data, s, false, "reshape");
    if (needsGrad(this)) {
      // no copy either way: when this tensor has no gradient yet (the usual case) it simply
      // takes over the view's gradient buffer; otherwise the view's gradient is added
      out.requiresGrad = true;
      record(() => {
        const g = out.grad;
        if (!g) return;
        if (!this.grad && !this.persistent) this.grad = g;
        else if (!this.grad) this.ensureGrad().set(g);
        else for (let i = 0; i < g.length; i++) this.grad![i]! += g[i]!;
      });
    }
    return out;
  }
  toString(): string {
    return `Tensor(${this.op}, [${this.shape}], ${this.dtype})`;
  }
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function resolveShape(
  shape: readonly number[],
  size: number,
  op: string,
  from: readonly number[],
): number[] {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = numel(s.filter((_, i) => i !== neg));
    s[neg] = rest === 0 ? 0 : size / rest;
  }
  if (numel(s) !== size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${op}: cannot view shape [${from}] (${size} numbers) as [${shape}]`);
  }
  return s;
}

/** A buffer like `like` (same dtype and length), zero-filled. */
export function zerosLike(like: Data, keep = false): Data {
  if (like instanceof Float64Array) return new Float64Array(like.length);
  return keep ? allocPersistent(like.length) : alloc(like.length, true);
}

function allocPersistent(n: number): Float32Array {
  return persistent(() => alloc(n, true));
}

/** An uninitialised buffer of n numbers of the given dtype (from the pool for f32). */
export function empty(n: number, dtype: DType): Data {
  return dtype === "f64" ? new Float64Array(n) : alloc(n);
}

// ---------------------------------------------------------------------------------------------
// Construction

/** A tensor from numbers (copied). dtype f32 unless given. */
export function tensor(values: ArrayLike<number>, shape?: readonly number[], dtype: DType = "f32") {
  const s = shape ?? [values.length];
  const d = empty(numel(s), dtype);
  if (d.length !== values.length) {
    throw new Error(`tensor: ${values.length} values do not fill shape [${s}]`);
  }
  d.set(values);
  return new Tensor(d, s);
}

export function zeros(shape: readonly number[], dtype: DType = "f32"): Tensor {
  const d = empty(numel(shape), dtype);
  d.fill(0);
  return new Tensor(d, shape);
}

export function full(shape: readonly number[], value: number, dtype: DType = "f32"): Tensor {
  const d = empty(numel(shape), dtype);
  d.fill(value);
  return new Tensor(d, shape);
}

/** A trainable parameter: persistent storage, requiresGrad, and a name. */
export function parameter(shape: readonly number[], name: string, dtype: DType = "f32"): Tensor {
  const d = dtype === "f64" ? new Float64Array(numel(shape)) : allocPersistent(numel(shape));
  const t = new Tensor(d, shape, true, "param");
  t.persistent = true;
  t.name = name;
  return t;
}

// ---------------------------------------------------------------------------------------------
// The tape

let gradEnabled = true;
let tape: (() => void)[] = [];
/** The op name of each tape entry (filled by `checked`), for the profiler. */
let tapeOps: string[] = [];
let checkFinite = false;
let profiling = false;
let lastMark = 0;
const profile = new Map<string, { fwd: number; bwd: number; calls: number }>();

/** True if an op on these inputs must record a backward closure. */
export function needsGrad(...ts: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of ts) if (t?.requiresGrad) return true;
  return false;
}

/** Pushes a backward closure on the tape. */
export function record(backward: () => void): void {
  tape.push(backward);
}

/**
 * Profiling: when on, every op's forward time (from the previous op's end to its own) and
 * backward time is accumulated by op name; `profileReport()` returns the table.
 */
export function setProfiling(on: boolean): void {
  profiling = on;
  profile.clear();
  lastMark = performance.now();
}

export function profileReport(): { op: string; fwdMs: number; bwdMs: number; calls: number }[] {
  return [...profile]
    .map(([op, p]) => ({ op, fwdMs: p.fwd, bwdMs: p.bwd, calls: p.calls }))
    .sort((a, b) => b.fwdMs + b.bwdMs - (a.fwdMs + a.bwdMs));
}

function prof(op: string) {
  let p = profile.get(op);
  if (!p) profile.set(op, (p = { fwd: 0, bwd: 0, calls: 0 }));
  return p;
}

/** Marks the end of non-op work (so it is not charged to the next op). */
export function profileMark(): void {
  lastMark = performance.now();
}

/** Runs fn without recording anything (inference, evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Back-propagates from a scalar `loss` (seeded with d loss = 1, or `seed` if given): runs
 * every recorded closure in reverse order, then clears the tape.
 */
export function backward(loss: Tensor, seed?: Data): void {
  if (!loss.requiresGrad) {
    tape = [];
    throw new Error(`backward: ${loss} does not require grad (no parameter reached it)`);
  }
  const g = loss.ensureGrad();
  if (seed) g.set(seed);
  else if (loss.size === 1) g[0] = 1;
  else throw new Error(`backward: loss has shape [${loss.shape}]; pass a seed gradient`);
  const t = tape;
  const ops = tapeOps;
  tape = [];
  tapeOps = [];
  if (!profiling) {
    for (let i = t.length - 1; i >= 0; i--) t[i]!();
    return;
  }
  for (let i = t.length - 1; i >= 0; i--) {
    const t0 = performance.now();
    t[i]!();
    prof(ops[i] ?? "?").bwd += performance.now() - t0;
  }
  lastMark = performance.now();
}

/** Drops the tape without running it (e.g. after an evaluation forward with grad on). */
export function clearTape(): void {
  tape = [];
  tapeOps = [];
}

/** Number of closures currently on the tape. */
export function tapeLength(): number {
  return tape.length;
}

/** NaN/Inf check mode: every op checks its output and throws naming the first bad op. */
export function setCheckFinite(on: boolean): void {
  checkFinite = on;
}

/** Called by ops on each output; throws if check mode is on and the data has a NaN/Inf. */
export function checked(op: string, t: Tensor): Tensor {
  if (profiling) {
    const now = performance.now();
    const p = prof(op);
    p.fwd += now - lastMark;
    p.calls++;
    lastMark = now;
    for (let i = tapeOps.length; i < tape.length; i++) tapeOps[i] = op;
  }
  if (checkFinite) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) {
        throw new Error(
          `${op}: produced ${d[i]} at flat index ${i} of output shape [${t.shape}] (first non-finite value)`,
        );
      }
    }
  }
  return t;
}

/** Checks a gradient buffer in check mode (names the op whose backward produced it). */
export function checkedGrad(op: string, g: Data | null): void {
  if (!checkFinite || !g) return;
  for (let i = 0; i < g.length; i++) {
    if (!Number.isFinite(g[i]!)) {
      throw new Error(`${op} backward: produced ${g[i]} at flat index ${i} of an input gradient`);
    }
  }
}

/** Throws a shape error that names the op and every input's shape. */
export function shapeError(op: string, why: string, ...ts: Tensor[]): never {
  const shapes = ts.map((t) => `[${t.shape.join(", ")}]`).join(" and ");
  throw new Error(`${op}: ${why} (got ${shapes})`);
}
