/**
 * The control block shared by the main thread and the kernel workers (the first CONTROL_BYTES
 * of the shared memory, which the allocator never hands out).
 *
 * Int32 slots:
 * - `seq`: number of the job posted last; workers wait for it to change.
 * - `done + i`: the last job number worker i finished; the main thread waits until every
 *   worker's slot equals the job it posted. Each worker writes only its own slot, so there is no
 *   shared counter that a late or doubled update could leave wrong.
 * - `kernel`, `nargs`, `n`, `nthreads`, `align`: the job: which kernel, how many arguments, and
 *   the range [0, n) split into one contiguous chunk per thread (multiples of `align`).
 * - `fault`: 1 + the index of a worker whose kernel threw; its message is at `faultByte`.
 * Arguments are float64 at `argsByte` (exact for i32 addresses and f32 scalars).
 * A float64 at `awakeByte`: until that time (ms, `wallNow()`), idle workers spin instead of
 * sleeping, so that a stream of small jobs (decoding) does not pay a wake-up per job.
 */
export const CTRL = {
  seq: 0,
  quit: 1,
  kernel: 2,
  nargs: 3,
  n: 4,
  nthreads: 5,
  align: 6,
  ready: 7,
  fault: 8,
  done: 16,
  maxWorkers: 32,
  awakeByte: 200,
  argsByte: 256,
  maxArgs: 24,
  faultByte: 512,
  faultBytes: 512,
} as const;

/** Milliseconds on a clock every thread shares (performance.now() has a per-thread origin). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The [start, end) chunk of thread `index`. */
export function chunk(n: number, nthreads: number, align: number, index: number): [number, number] {
  const size = Math.ceil(n / nthreads / align) * align;
  const s = Math.min(n, index * size);
  return [s, Math.min(n, s + size)];
}

/** Runs thread `index`'s share of the posted job. */
export function runShare(
  fns: ((...a: number[]) => void)[],
  ctrl: Int32Array,
  args: Float64Array,
  index: number,
): void {
  const [s, e] = chunk(ctrl[CTRL.n]!, ctrl[CTRL.nthreads]!, ctrl[CTRL.align]!, index);
  if (s >= e) return;
  const f = fns[ctrl[CTRL.kernel]!]!;
  const na = ctrl[CTRL.nargs]!;
  switch (na) {
    case 1:
      f(args[0]!, s, e);
      return;
    case 2:
      f(args[0]!, args[1]!, s, e);
      return;
    case 3:
      f(args[0]!, args[1]!, args[2]!, s, e);
      return;
    case 4:
      f(args[0]!, args[1]!, args[2]!, args[3]!, s, e);
      return;
    case 5:
      f(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, s, e);
      return;
    case 6:
      f(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, s, e);
      return;
    case 7:
      f(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, args[6]!, s, e);
      return;
    default: {
      const a = Array.from(args.subarray(0, na));
      f(...a, s, e);
      return;
    }
  }
}
