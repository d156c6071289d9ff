/**
 * Request bodies, checked with zod (DESIGN.md §4 lists the fields). Unknown fields are ignored
 * (zod strips them), `null` means "not given" (some clients send nulls for defaults), and a
 * failed check is a 400 whose `param` names the field (`messages[2].role`, `top_logprobs`).
 * Message contents are checked further by src/chat (roles, turn order) when rendered.
 */
import { z } from "zod";
import { badRequest } from "./errors.js";

const opt = <T extends z.ZodType>(s: T) => s.nullish().transform((v) => v ?? undefined);

const stop = opt(
  z.union([
    z.string().min(1, "a stop string must not be empty"),
    z.array(z.string().min(1, "a stop string must not be empty")).max(4, "at most 4 stop strings"),
  ]),
);

/** The sampling fields chat and text completions share. */
const sampling = {
  model: z.string({ error: "model is required (GET /v1/models lists them)" }).min(1),
  temperature: opt(z.number().min(0).max(2)),
  top_p: opt(z.number().gt(0).max(1)),
  /** Not OpenAI's, but llama-server's and common: accepted. */
  top_k: opt(z.int().min(0)),
  min_p: opt(z.number().min(0).lt(1)),
  repetition_penalty: opt(z.number().gt(0).max(100)),
  n: opt(z.int().min(1).max(16)),
  max_tokens: opt(z.int().min(1)),
  stop,
  seed: opt(z.int()),
  stream: opt(z.boolean()),
  stream_options: opt(z.object({ include_usage: opt(z.boolean()) })),
};

const textPart = z.object({ type: z.literal("text"), text: z.string() });

export const chatMessage = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"], {
    error: "role must be one of system, developer, user, assistant, tool",
  }),
  content: z.union([z.string(), z.array(textPart)], {
    error: 'content must be a string or a list of {"type": "text", "text": …} parts',
  }),
});

export const chatRequest = z.object({
  ...sampling,
  messages: z.array(chatMessage).min(1, "messages must not be empty"),
  max_completion_tokens: opt(z.int().min(1)),
  logprobs: opt(z.boolean()),
  top_logprobs: opt(z.int().min(0).max(20)),
});
export type ChatRequest = z.infer<typeof chatRequest>;

const tokenIds = z.array(z.int().min(0)).min(1);

export const completionRequest = z.object({
  ...sampling,
  prompt: z.union([z.string(), tokenIds, z.array(z.union([z.string(), tokenIds])).min(1)], {
    error: "prompt must be a string, a list of strings, a list of token ids, or a list of those",
  }),
  /** The legacy API's logprobs: how many top alternatives per token (0–5; 20 allowed here). */
  logprobs: opt(z.int().min(0).max(20)),
  echo: opt(z.boolean()),
});
export type CompletionRequest = z.infer<typeof completionRequest>;

export const tokenizeRequest = z.object({
  model: opt(z.string()),
  content: z.string({ error: "content must be a string" }),
  add_special: opt(z.boolean()),
  with_pieces: opt(z.boolean()),
});

export const detokenizeRequest = z.object({
  model: opt(z.string()),
  tokens: z.array(z.int().min(0), { error: "tokens must be a list of token ids" }),
});

/** `messages.2.role` → `messages[2].role`. */
function paramOf(path: readonly PropertyKey[]): string | null {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || null;
}

/** Parses `body` or throws a 400 naming the first wrong field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("the request body must be a JSON object", null, "invalid_json");
  }
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = paramOf(issue.path);
  let message = issue.message;
  if (issue.code === "invalid_union" && "errors" in issue) {
    // the clearest branch error is the one that got furthest
    const deepest = issue.errors
      .flat()
      .sort((a, b) => b.path.length - a.path.length)
      .at(0);
    if (deepest && deepest.path.length > 0) {
      const full = paramOf([...issue.path, ...deepest.path]);
      throw badRequest(`${full}: ${deepest.message}`, full);
    }
  }
  if (issue.code === "invalid_type" && issue.input === undefined && param) {
    message = message.startsWith("Invalid input") ? `${param} is required` : message;
  }
  throw badRequest(param ? `${param}: ${message}` : message, param);
}
