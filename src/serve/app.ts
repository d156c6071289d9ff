/**
 * The HTTP API of `chatforge serve` (DESIGN.md §4, issue 14), a Hono app:
 *
 *   POST /v1/chat/completions   OpenAI chat completions, streamed or not (src/serve/chat.ts)
 *   POST /v1/completions        legacy text completions for base models (completions.ts)
 *   GET  /v1/models[/:id]       the served models, `<run>/<stage>`
 *   GET  /health                {"status": "ok", …} (no API key needed)
 *   POST /tokenize, /detokenize llama-server's shapes: {content} → {tokens}, {tokens} → {content}
 *   GET  /metrics               Prometheus text (src/serve/metrics.ts)
 *   GET  /                      the chat web page, POST /v1/chat/render (src/serve/web.ts)
 *
 * Every error is OpenAI-shaped (src/serve/errors.ts): 400 for bad values (with `param`) and bad
 * JSON, 401 `invalid_api_key` when `apiKey` is set and the Bearer token is missing or wrong, 404
 * `model_not_found` and for unknown routes, 413 over the body limit, 429 with retry-after when a
 * model's batch and queue are full. An exception inside one request is caught there (a 500 without
 * a stack, or an error line in a stream) and never reaches the server. CORS is open to any
 * origin (browser clients; the API key, when set, is what guards it).
 */
import { timingSafeEqual } from "node:crypto";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { chatCompletions, jsonBody, type RouteContext } from "./chat.js";
import { completions } from "./completions.js";
import { ApiError, toApiError } from "./errors.js";
import { Metrics } from "./metrics.js";
import { type ModelInfo, ModelRegistry, type RegistryOptions } from "./models.js";
import { detokenizeRequest, parseBody, tokenizeRequest } from "./schemas.js";
import { chatRender, webPage } from "./web.js";

export interface AppOptions extends RegistryOptions {
  /** Require `Authorization: Bearer <apiKey>` on every route but /health. */
  apiKey?: string;
  /** Largest request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Messages per chat request at most (default 512). */
  maxMessages?: number;
  /** A request's generation is cut after this long (default 300 s; finish_reason "length"). */
  timeoutMs?: number;
}

export interface ServeApp {
  app: Hono;
  registry: ModelRegistry;
  metrics: Metrics;
  /** Refuses new rows and waits for the running ones. */
  close(): Promise<void>;
}

const errorResponse = (c: Context, e: ApiError) => {
  for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
  return c.json(e.body(), e.status);
};

function sameKey(got: string, want: string): boolean {
  const a = Buffer.from(got);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createApp(o: AppOptions): ServeApp {
  const metrics = new Metrics();
  const registry = new ModelRegistry({ ...o, metrics });
  const rc: RouteContext = {
    registry,
    metrics,
    maxMessages: o.maxMessages ?? 512,
    timeoutMs: o.timeoutMs ?? 300_000,
  };
  metrics.addGauges(() => {
    const u = registry.usage();
    return [
      {
        name: "chatforge_queue_length",
        help: "rows waiting for a batch slot, by model",
        values: u.map((m) => [{ model: m.id }, m.queued]),
      },
      {
        name: "chatforge_active_rows",
        help: "rows generating now, by model",
        values: u.map((m) => [{ model: m.id }, m.active]),
      },
      {
        name: "chatforge_models_loaded",
        help: "models in memory",
        values: [[{}, u.length]],
      },
    ];
  });

  const app = new Hono();

  app.use("*", async (c, next) => {
    await next();
    const route = c.req.routePath && c.req.routePath !== "*" ? c.req.routePath : "other";
    metrics.requests.inc({ route: `${c.req.method} ${route}`, status: String(c.res.status) });
  });
  app.use(
    "*",
    cors({
      origin: "*",
      allowHeaders: ["Authorization", "Content-Type"],
      allowMethods: ["GET", "POST", "OPTIONS"],
      exposeHeaders: ["retry-after"],
      maxAge: 600,
    }),
  );
  app.route("/", webPage()); // the chat page (src/serve/web.ts), before the key check
  if (o.apiKey) {
    const key = o.apiKey;
    app.use("*", async (c, next) => {
      if (c.req.path === "/health" || c.req.method === "OPTIONS") return next();
      const h = c.req.header("authorization") ?? "";
      const m = /^Bearer\s+(.+)$/i.exec(h.trim());
      if (!m || !sameKey(m[1]!, key)) {
        return errorResponse(
          c,
          new ApiError(
            401,
            m
              ? "Incorrect API key provided."
              : "Missing API key: send it as 'Authorization: Bearer <key>'.",
            "invalid_request_error",
            "invalid_api_key",
          ),
        );
      }
      return next();
    });
  }
  const maxBody = o.maxBodyBytes ?? 1 << 20;
  app.use(
    "*",
    bodyLimit({
      maxSize: maxBody,
      onError: (c) =>
        errorResponse(
          c,
          new ApiError(
            413,
            `The request body is larger than this server's limit of ${maxBody} bytes.`,
            "invalid_request_error",
            "request_too_large",
          ),
        ),
    }),
  );

  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status === 413) {
      return errorResponse(
        c,
        new ApiError(413, err.message, "invalid_request_error", "request_too_large"),
      );
    }
    if (err instanceof HTTPException && err.status < 500) {
      return errorResponse(
        c,
        new ApiError(400, err.message || "bad request", "invalid_request_error"),
      );
    }
    return errorResponse(c, toApiError(err));
  });
  app.notFound((c) =>
    errorResponse(
      c,
      new ApiError(
        404,
        `Unknown route ${c.req.method} ${c.req.path}. Routes: POST /v1/chat/completions, ` +
          "POST /v1/completions, GET /v1/models, GET /health, POST /tokenize, POST /detokenize, GET /metrics",
        "invalid_request_error",
        "not_found",
      ),
    ),
  );

  const modelJson = (m: ModelInfo) => ({
    id: m.id,
    object: "model",
    created: m.created,
    owned_by: "chatforge",
  });

  app.get("/health", async (c) => {
    const models = await registry.list();
    return c.json({ status: "ok", models: models.length, loaded: registry.loadedIds() });
  });
  app.get("/v1/models", async (c) =>
    c.json({ object: "list", data: (await registry.list()).map(modelJson) }),
  );
  app.get("/v1/models/:run/:stage", async (c) =>
    c.json(modelJson(await registry.info(`${c.req.param("run")}/${c.req.param("stage")}`))),
  );
  app.get("/metrics", (c) =>
    c.text(metrics.render(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }),
  );

  /** The tokenizer of the request's model (or of the first model when none is named). */
  const tokenizerFor = async (model: string | undefined) => {
    let info: ModelInfo;
    if (model) info = await registry.info(model);
    else {
      const all = await registry.list();
      if (all.length === 0) throw await registry.info("(none)");
      info = all[0]!;
    }
    return registry.tokenizer(info);
  };
  app.post("/tokenize", async (c) => {
    const r = parseBody(tokenizeRequest, await jsonBody(c));
    const tok = await tokenizerFor(r.model);
    const ids = r.add_special
      ? tok.encode(r.content, { allowedSpecial: "all" })
      : tok.encodeOrdinary(r.content);
    if (!r.with_pieces) return c.json({ tokens: ids });
    return c.json({ tokens: ids.map((id) => ({ id, piece: tok.decode([id]) })) });
  });
  app.post("/detokenize", async (c) => {
    const r = parseBody(detokenizeRequest, await jsonBody(c));
    const tok = await tokenizerFor(r.model);
    const bad = r.tokens.findIndex((id) => id >= tok.vocabSize);
    if (bad >= 0) {
      throw new ApiError(
        400,
        `tokens[${bad}]: ${r.tokens[bad]} is not a token id (the vocabulary has ${tok.vocabSize})`,
        "invalid_request_error",
        "invalid_value",
        `tokens[${bad}]`,
      );
    }
    return c.json({ content: tok.decode(r.tokens) });
  });
  app.post("/v1/chat/completions", (c) => chatCompletions(c, rc));
  app.post("/v1/completions", (c) => completions(c, rc));
  app.post("/v1/chat/render", (c) => chatRender(c, rc));

  return { app, registry, metrics, close: () => registry.close() };
}
