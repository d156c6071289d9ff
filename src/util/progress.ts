/**
 * Progress reporting for long work: a bar with rate and ETA on a TTY, and plain periodic
 * lines when stderr is not a TTY or under CI (so logs stay readable).
 */
export interface ProgressOptions {
  /** Total units, if known (enables percent and ETA). */
  total?: number;
  /** Unit name shown after the rate, e.g. "docs", "tok", "MB". */
  unit?: string;
  /** Seconds between plain-mode lines (default 5). */
  plainInterval?: number;
  /** Format a count for display (e.g. bytes → MB). */
  format?: (n: number) => string;
  /** Suppress all output. */
  quiet?: boolean;
  stream?: NodeJS.WriteStream;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (n >= 100 || Number.isInteger(n)) return String(Math.round(n));
  return n.toPrecision(2);
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export class Progress {
  readonly label: string;
  total: number | undefined;
  done = 0;
  #extra = "";
  readonly #opts: ProgressOptions;
  readonly #start = performance.now();
  readonly #tty: boolean;
  readonly #stream: NodeJS.WriteStream;
  #lastDraw = 0;
  #finished = false;

  constructor(label: string, opts: ProgressOptions = {}) {
    this.label = label;
    this.total = opts.total;
    this.#opts = opts;
    this.#stream = opts.stream ?? process.stderr;
    this.#tty = Boolean(this.#stream.isTTY) && !process.env.CI;
  }

  /** Advances by `n` units; `extra` is shown after the bar (e.g. "loss 3.21"). */
  tick(n = 1, extra?: string): void {
    this.done += n;
    if (extra !== undefined) this.#extra = extra;
    this.#maybeDraw();
  }

  /** Sets the absolute position. */
  update(done: number, extra?: string): void {
    this.done = done;
    if (extra !== undefined) this.#extra = extra;
    this.#maybeDraw();
  }

  get elapsed(): number {
    return (performance.now() - this.#start) / 1000;
  }

  get rate(): number {
    return this.done / Math.max(this.elapsed, 1e-9);
  }

  /** The status line without bar: "label 12/100 (12%) 3.4 docs/s ETA 26s extra". */
  line(): string {
    const fmt = this.#opts.format ?? formatCount;
    const unit = this.#opts.unit ?? "it";
    const rate = `${fmt(this.rate)} ${unit}/s`;
    const parts = [this.label];
    if (this.total !== undefined && this.total > 0) {
      const pct = Math.min(100, (100 * this.done) / this.total);
      const eta = (this.total - this.done) / Math.max(this.rate, 1e-9);
      parts.push(`${fmt(this.done)}/${fmt(this.total)} (${pct.toFixed(0)}%)`, rate);
      if (!this.#finished) parts.push(`ETA ${formatDuration(eta)}`);
    } else {
      parts.push(fmt(this.done), rate);
    }
    if (this.#finished) parts.push(`in ${formatDuration(this.elapsed)}`);
    if (this.#extra) parts.push(this.#extra);
    return parts.join("  ");
  }

  #bar(width: number): string {
    if (this.total === undefined || this.total <= 0) return "";
    const f = Math.min(1, this.done / this.total);
    const full = Math.floor(f * width);
    return `[${"█".repeat(full)}${" ".repeat(width - full)}] `;
  }

  #maybeDraw(force = false): void {
    if (this.#opts.quiet) return;
    const now = performance.now();
    if (this.#tty) {
      if (!force && now - this.#lastDraw < 100) return;
      this.#lastDraw = now;
      const cols = this.#stream.columns ?? 100;
      const text = `${this.#bar(24)}${this.line()}`;
      this.#stream.write(`\r\x1b[2K${text.slice(0, cols - 1)}`);
    } else {
      const interval = (this.#opts.plainInterval ?? 5) * 1000;
      if (!force && now - this.#lastDraw < interval) return;
      if (this.#lastDraw === 0 && !force) {
        this.#lastDraw = now; // first line after one interval, not at once
        return;
      }
      this.#lastDraw = now;
      this.#stream.write(`${this.line()}\n`);
    }
  }

  /** Draws the final state and moves to a new line. */
  finish(extra?: string): void {
    if (this.#finished) return;
    if (extra !== undefined) this.#extra = extra;
    this.#finished = true;
    if (this.#opts.quiet) return;
    if (this.#tty) {
      this.#maybeDraw(true);
      this.#stream.write("\n");
    } else {
      this.#stream.write(`${this.line()}\n`);
    }
  }
}
