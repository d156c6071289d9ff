/**
 * `GET /metrics`: Prometheus text exposition (version 0.0.4) of what the server did — requests
 * by route and status, prompt and generated tokens, decoding steps and how many of them were
 * shared by two or more rows (continuous batching at work), queue length and active rows, time to
 * first token (a histogram) and recent generation speed (tokens/s over the last 10 s).
 */

type Labels = Record<string, string>;

const key = (l: Labels) =>
  Object.entries(l)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(
      ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
    )
    .join(",");

class Counter {
  readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" = "counter",
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  set(labels: Labels, v: number): void {
    this.values.set(key(labels), v);
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels)) ?? 0;
  }
  render(): string {
    let s = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n`;
    for (const [k, v] of this.values) s += `${this.name}${k ? `{${k}}` : ""} ${v}\n`;
    return s;
  }
}

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    this.buckets.forEach((b, i) => {
      if (v <= b) this.counts[i]!++;
    });
  }
  render(): string {
    let s = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    this.buckets.forEach((b, i) => {
      s += `${this.name}_bucket{le="${b}"} ${this.counts[i]}\n`;
    });
    s += `${this.name}_bucket{le="+Inf"} ${this.count}\n`;
    s += `${this.name}_sum ${this.sum}\n${this.name}_count ${this.count}\n`;
    return s;
  }
}

/** Gauges read at scrape time (queue length, active rows, loaded models). */
export type GaugeSource = () => { name: string; help: string; values: [Labels, number][] }[];

export class Metrics {
  readonly requests = new Counter("chatforge_requests_total", "HTTP requests by route and status");
  readonly promptTokens = new Counter(
    "chatforge_prompt_tokens_total",
    "prompt tokens read, by model",
  );
  readonly generatedTokens = new Counter(
    "chatforge_generated_tokens_total",
    "tokens generated (sampled and tool outputs), by model",
  );
  readonly steps = new Counter("chatforge_decode_steps_total", "engine steps, by model");
  readonly sharedSteps = new Counter(
    "chatforge_shared_decode_steps_total",
    "engine steps that advanced two or more rows at once, by model",
  );
  readonly rowSteps = new Counter(
    "chatforge_row_steps_total",
    "rows advanced, summed over steps (÷ steps = mean batch), by model",
  );
  readonly finished = new Counter(
    "chatforge_rows_finished_total",
    "generated rows by model and reason (stop, length, stop_string, cancelled, timeout, context)",
  );
  readonly rejected = new Counter("chatforge_rejected_total", "requests refused (429) by model");
  readonly ttft = new Histogram(
    "chatforge_time_to_first_token_seconds",
    "from a request's arrival to its first generated token",
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  /** (time ms, tokens) per step, per model, for the recent rate. */
  readonly #recent = new Map<string, { t: number; n: number }[]>();
  readonly #gauges: GaugeSource[] = [];

  addGauges(g: GaugeSource): void {
    this.#gauges.push(g);
  }

  /** One engine step of `model` advanced `rows` rows and produced `tokens` tokens. */
  step(model: string, rows: number, tokens: number): void {
    this.steps.inc({ model });
    this.rowSteps.inc({ model }, rows);
    if (rows >= 2) this.sharedSteps.inc({ model });
    this.generatedTokens.inc({ model }, tokens);
    const now = performance.now();
    let r = this.#recent.get(model);
    if (!r) this.#recent.set(model, (r = []));
    r.push({ t: now, n: tokens });
    while (r.length > 0 && r[0]!.t < now - 10_000) r.shift();
  }

  /** Tokens per second over the last 10 s of `model` (0 when idle that long). */
  tokensPerSecond(model: string): number {
    const now = performance.now();
    const r = (this.#recent.get(model) ?? []).filter((x) => x.t >= now - 10_000);
    if (r.length < 2) return 0;
    const span = (now - r[0]!.t) / 1000;
    return span > 0 ? r.slice(1).reduce((a, x) => a + x.n, 0) / span : 0;
  }

  render(): string {
    const parts = [
      this.requests,
      this.promptTokens,
      this.generatedTokens,
      this.steps,
      this.sharedSteps,
      this.rowSteps,
      this.finished,
      this.rejected,
    ].map((c) => c.render());
    parts.push(this.ttft.render());
    const tps = new Counter(
      "chatforge_tokens_per_second",
      "generated tokens per second over the last 10 s, by model",
      "gauge",
    );
    for (const model of this.#recent.keys()) tps.set({ model }, this.tokensPerSecond(model));
    parts.push(tps.render());
    for (const g of this.#gauges) {
      for (const m of g()) {
        const c = new Counter(m.name, m.help, "gauge");
        for (const [l, v] of m.values) c.set(l, v);
        parts.push(c.render());
      }
    }
    return parts.join("");
  }
}
