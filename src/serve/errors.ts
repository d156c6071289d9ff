/**
 * API errors in OpenAI's shape, `{"error": {message, type, param, code}}` (DESIGN.md §4). Bad
 * input is always a 4xx with a message that says what to change (the `openai` client retries
 * 408/409/429/5xx, so a 5xx for bad input would be retried for nothing); only a bug in the server
 * is a 500, and its response says "internal error" without the stack (which goes to stderr).
 */
import { UserError } from "../util/errors.js";

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 408 | 413 | 429 | 500 | 503,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Extra response headers (retry-after). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  body(): ErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}

/** A value the client sent is wrong: 400 naming the field. */
export function badRequest(message: string, param: string | null = null, code = "invalid_value") {
  return new ApiError(400, message, "invalid_request_error", code, param);
}

export function modelNotFound(model: string, known: readonly string[]): ApiError {
  const list = known.length ? known.join(", ") : "none (no --run has checkpoints)";
  return new ApiError(
    404,
    `The model '${model}' does not exist. Models served here: ${list}`,
    "invalid_request_error",
    "model_not_found",
    "model",
  );
}

export function queueFull(retryAfterSeconds: number): ApiError {
  return new ApiError(
    429,
    "The server is busy: every batch slot and queue place for this model is taken. Retry shortly.",
    "rate_limit_exceeded",
    "rate_limit_exceeded",
    null,
    { "retry-after": String(retryAfterSeconds) },
  );
}

/**
 * Any thrown value → an ApiError. A UserError (a bad conversation, a prompt over the context)
 * is the client's mistake: 400. Anything else is a bug: 500, logged with its stack.
 */
export function toApiError(e: unknown, param: string | null = null): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof UserError) {
    return badRequest(e.hint ? `${e.message} (${e.hint})` : e.message, param);
  }
  process.stderr.write(`serve: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  return new ApiError(
    500,
    "internal error (see the server's log)",
    "server_error",
    "internal_error",
  );
}
