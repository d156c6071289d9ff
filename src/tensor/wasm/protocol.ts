/**
 * The control block shared by the main thread and the kernel workers (first bytes of the shared
 * memory): a job sequence number workers wait on, a pending count the main thread waits on,
 * the kernel index, its arguments (as float64, exact for i32 addresses and f32 scalars), and the
 * range [0, n) that is split into one contiguous chunk per thread (multiples of `align`).
 */
export const CTRL = {
  seq: 0,
  pending: 1,
  kernel: 2,
  nargs: 3,
  n: 4,
  nthreads: 5,
  align: 6,
  quit: 7,
  ready: 8,
  argsByte: 128,
  maxArgs: 24,
} as const;

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
