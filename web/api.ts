/** The server's OpenAI-compatible API as the page uses it: models, streamed chat, render. */
import type { Alt, Rendered, Segment } from "./types.js";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function headers(apiKey: string): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json" };
  if (apiKey) h.authorization = `Bearer ${apiKey}`;
  return h;
}

async function failure(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const j = (await res.json()) as { error?: { message?: string } };
    if (j.error?.message) message = j.error.message;
  } catch {
    // not JSON
  }
  if (res.status === 401) message += " (set the API key in Settings)";
  return new ApiError(message, res.status);
}

export async function listModels(apiKey: string): Promise<string[]> {
  const res = await fetch("/v1/models", { headers: headers(apiKey) });
  if (!res.ok) throw await failure(res);
  const j = (await res.json()) as { data: { id: string }[] };
  return j.data.map((m) => m.id);
}

export interface WireMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export async function renderChat(
  apiKey: string,
  model: string,
  messages: WireMessage[],
): Promise<Rendered> {
  const res = await fetch("/v1/chat/render", {
    method: "POST",
    headers: headers(apiKey),
    body: JSON.stringify({ model, messages }),
  });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as Rendered;
}

export interface ChatParams {
  model: string;
  messages: WireMessage[];
  temperature: number;
  top_p: number;
  max_tokens: number;
  seed: number | null;
  /** The last message is a partial assistant reply to go on from. */
  continue_final_message?: boolean;
}

interface WireLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs?: WireLogprob[];
}

export interface StreamEvent {
  text: string;
  segments: Segment[];
  finish?: string;
}

const toAlt = (l: WireLogprob): Alt =>
  l.bytes && l.token.includes("\uFFFD")
    ? { token: l.token, logprob: l.logprob, bytes: l.bytes }
    : { token: l.token, logprob: l.logprob };

/**
 * One chunk's text split into its tokens. The server sends one chunk per token; tool outputs the
 * engine forced have no logprobs, and a chunk with several tokens is split by their bytes.
 */
export function segmentsOf(text: string, lps: WireLogprob[] | undefined): Segment[] {
  if (!lps || lps.length === 0) return text ? [{ text }] : [];
  const seg = (t: string, l: WireLogprob): Segment => ({
    text: t,
    lp: { ...toAlt(l), top: (l.top_logprobs ?? []).map(toAlt) },
  });
  if (lps.length === 1) return [seg(text, lps[0]!)];
  const dec = new TextDecoder();
  const parts = lps.map((l) =>
    l.bytes ? dec.decode(new Uint8Array(l.bytes), { stream: true }) : l.token,
  );
  if (parts.join("") === text) return lps.map((l, i) => seg(parts[i]!, l));
  return lps.map((l, i) => seg(i === 0 ? text : "", l));
}

/** Streams a chat completion (with logprobs and 5 alternatives per token). */
export async function* streamChat(
  apiKey: string,
  p: ChatParams,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent> {
  const body: Record<string, unknown> = {
    ...p,
    stream: true,
    logprobs: true,
    top_logprobs: 5,
  };
  if (p.seed === null) delete body.seed;
  if (!p.continue_final_message) delete body.continue_final_message;
  const res = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: headers(apiKey),
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return;
        const j = JSON.parse(data) as {
          error?: { message: string };
          choices?: {
            delta: { content?: string };
            logprobs: { content: WireLogprob[] } | null;
            finish_reason: string | null;
          }[];
        };
        if (j.error) throw new ApiError(j.error.message, 500);
        const ch = j.choices?.[0];
        if (!ch) continue;
        const text = ch.delta.content ?? "";
        yield {
          text,
          segments: segmentsOf(text, ch.logprobs?.content),
          finish: ch.finish_reason ?? undefined,
        };
      }
    }
  }
}
