/**
 * `chatforge serve` under load (issue 14): 1, 4, 8 and 16 concurrent streaming clients against
 * one model — aggregate generated tokens/s, time to first token (p50/p95), errors and incomplete
 * streams — then a soak in which clients disconnect at random, with the server's memory sampled
 * throughout and a normal request at the end. The server runs in its own process (the CLI, as a
 * user starts it), so the clients' work does not share its event loop. The peer is the server
 * itself with one client: continuous batching should multiply what one stream gets.
 *
 *   BENCH_RUN=speedrun npm run bench:serve       # the run's sft model
 *   BENCH_SOAK_SECONDS=180 BENCH_BATCH=16 …      # soak length; --batch of the server
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const RUN = process.env.BENCH_RUN ?? "speedrun";
const MODEL = `${RUN}/${process.env.BENCH_STAGE ?? "sft"}`;
const BATCH = Number(process.env.BENCH_BATCH ?? 16);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 120);
const MAX_TOKENS = 128;
const REQUESTS_PER_CLIENT = 4;
const PROMPTS = [
  "Tell me about the sea.",
  "Who are you?",
  "What is the capital of France?",
  "How many r's are in strawberry?",
  "Write a few words about whales.",
];

const bin = join(fileURLToPath(new URL("../..", import.meta.url)), "bin", "chatforge.js");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.once("error", reject);
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

interface StreamResult {
  ok: boolean;
  complete: boolean;
  tokens: number;
  ttftMs: number;
  error?: string;
}

/** One streamed chat completion; `abortAfterMs` disconnects mid-way. */
async function stream(
  base: string,
  prompt: string,
  seed: number,
  abortAfterMs?: number,
): Promise<StreamResult> {
  const t0 = performance.now();
  const ac = new AbortController();
  const timer = abortAfterMs !== undefined ? setTimeout(() => ac.abort(), abortAfterMs) : undefined;
  let ttftMs = Number.NaN;
  let tokens = 0;
  try {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: "user", content: prompt }],
        max_tokens: MAX_TOKENS,
        temperature: 1,
        seed,
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal: ac.signal,
    });
    if (!res.ok || !res.body)
      return { ok: false, complete: false, tokens, ttftMs, error: `HTTP ${res.status}` };
    const decoder = new TextDecoder();
    let buf = "";
    let done = false;
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      let at: number;
      while ((at = buf.indexOf("\n\n")) >= 0) {
        const line = buf.slice(0, at).trim();
        buf = buf.slice(at + 2);
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        const j = JSON.parse(data);
        if (j.error) return { ok: false, complete: false, tokens, ttftMs, error: j.error.message };
        if (j.choices?.[0]?.delta?.content && Number.isNaN(ttftMs)) ttftMs = performance.now() - t0;
        if (j.usage) tokens = j.usage.completion_tokens;
      }
    }
    return { ok: true, complete: done, tokens, ttftMs };
  } catch (e) {
    if (ac.signal.aborted) return { ok: true, complete: false, tokens, ttftMs, error: "aborted" };
    return { ok: false, complete: false, tokens, ttftMs, error: String(e) };
  } finally {
    clearTimeout(timer);
  }
}

const pctl = (xs: number[], p: number) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : Number.NaN;
};

async function waitHealthy(base: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited (code ${child.exitCode})`);
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the server did not become healthy in 30 s");
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const child = spawn(
  process.execPath,
  [bin, "serve", "--run", RUN, "--port", String(port), "--batch", String(BATCH), "--queue", "64"],
  { stdio: ["ignore", "inherit", "inherit"] },
);
try {
  await waitHealthy(base, child);
  await stream(base, "Hello", 0); // loads the model
  console.log(
    `\nserve bench: ${MODEL}, server --batch ${BATCH}, ${MAX_TOKENS} max tokens, temperature 1, ${REQUESTS_PER_CLIENT} requests per client`,
  );
  console.log("clients  tokens/s  vs 1 client  TTFT p50  TTFT p95  errors  incomplete");
  let one = 0;
  for (const clients of [1, 4, 8, 16]) {
    const t0 = performance.now();
    const results = (
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          const out: StreamResult[] = [];
          for (let k = 0; k < REQUESTS_PER_CLIENT; k++)
            out.push(await stream(base, PROMPTS[(c + k) % PROMPTS.length]!, c * 100 + k));
          return out;
        }),
      )
    ).flat();
    const seconds = (performance.now() - t0) / 1000;
    const tps = results.reduce((a, r) => a + r.tokens, 0) / seconds;
    if (clients === 1) one = tps;
    const ttft = results.map((r) => r.ttftMs);
    console.log(
      `${String(clients).padStart(7)}  ${tps.toFixed(0).padStart(8)}  ${(tps / one).toFixed(2).padStart(10)}x  ${pctl(ttft, 0.5).toFixed(0).padStart(6)} ms  ${pctl(ttft, 0.95).toFixed(0).padStart(6)} ms  ${String(results.filter((r) => !r.ok).length).padStart(6)}  ${String(results.filter((r) => !r.complete).length).padStart(10)}`,
    );
  }

  if (SOAK_SECONDS > 0) {
    const pid = child.pid!;
    const rss: number[] = [rssMiB(pid)];
    const until = performance.now() + SOAK_SECONDS * 1000;
    const sampler = setInterval(() => rss.push(rssMiB(pid)), 5000);
    let n = 0;
    let aborted = 0;
    let errors = 0;
    let seed = 1;
    await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        while (performance.now() < until) {
          const abort = Math.random() < 0.5 ? Math.random() * 500 : undefined;
          const r = await stream(base, PROMPTS[c % PROMPTS.length]!, seed++, abort);
          n++;
          if (r.error === "aborted") aborted++;
          else if (!r.ok) errors++;
        }
      }),
    );
    clearInterval(sampler);
    await new Promise((r) => setTimeout(r, 1000));
    rss.push(rssMiB(pid));
    const health = (await (await fetch(`${base}/health`)).json()) as { status: string };
    const last = await stream(base, "Who are you?", 1);
    const firstHalf = rss.slice(1, Math.max(2, rss.length >> 1));
    console.log(
      `\nsoak ${SOAK_SECONDS} s, 16 clients, half disconnecting at random: ${n} requests, ${aborted} disconnected, ${errors} errors`,
    );
    console.log(
      `server RSS: start ${rss[0]!.toFixed(0)} MiB, after warm-up ${Math.max(...firstHalf).toFixed(0)} MiB, max ${Math.max(...rss).toFixed(0)} MiB, end ${rss.at(-1)!.toFixed(0)} MiB; health ${JSON.stringify(health.status)}; a normal request after: ${last.complete ? `complete (${last.tokens} tokens)` : `FAILED (${last.error})`}`,
    );
  }
} finally {
  child.kill("SIGTERM");
}
