/**
 * Server-sent events the way OpenAI streams (DESIGN.md §4): `Content-Type: text/event-stream`,
 * only `data: {json}\n\n` lines, `data: [DONE]` at the end; an error after the 200 is one
 * `data: {"error": {…}}` line. When the client goes away (@hono/node-server cancels the response
 * stream when the socket closes), `onCancel` runs, which cancels the generation.
 */
import { type ApiError, toApiError } from "./errors.js";

export interface SseWriter {
  send(obj: unknown): void;
  /** The client is gone. */
  readonly closed: boolean;
}

export function sseResponse(
  run: (w: SseWriter) => Promise<void>,
  onCancel: () => void,
  headers: Record<string, string> = {},
): Response {
  const enc = new TextEncoder();
  let closed = false;
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const write = (s: string) => {
    if (closed) return;
    try {
      ctl.enqueue(enc.encode(s));
    } catch {
      closed = true;
    }
  };
  const w: SseWriter = {
    send: (obj) => write(`data: ${JSON.stringify(obj)}\n\n`),
    get closed() {
      return closed;
    },
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      ctl = c;
      run(w).then(
        () => {
          write("data: [DONE]\n\n");
          end();
        },
        (e) => {
          const err: ApiError = toApiError(e);
          write(`data: ${JSON.stringify(err.body())}\n\n`);
          end();
        },
      );
    },
    cancel() {
      closed = true;
      onCancel();
    },
  });
  function end(): void {
    if (closed) return;
    closed = true;
    try {
      ctl.close();
    } catch {
      // already closed
    }
  }
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...headers,
    },
  });
}
