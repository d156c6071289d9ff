/**
 * What a conversation must look like before it is rendered: known roles, string contents, and the
 * turn order. Everything here is a `UserError` that names the conversation (`where`, e.g.
 * `sft.jsonl:12`) and the message.
 *
 * Turn order: an optional system message first; then user and assistant alternate, starting with
 * user; tool messages (results of a call the assistant made) only after an assistant turn or another
 * tool message, and only an assistant turn after them. Where the conversation must end depends on
 * its use: a training example ends with an assistant turn (`end: "assistant"`), a prompt with a turn
 * the assistant answers next (`end: "prompt"`: user or tool), a stored chat anywhere (`end: "any"`).
 */
import { UserError } from "../util/errors.js";
import type { Conversation, Message, Role } from "./conversation.js";

export const ROLES: readonly Role[] = ["system", "user", "assistant", "tool"];

/** Where a conversation must end (see the file comment). */
export type ConversationEnd = "assistant" | "prompt" | "any";

/** Which roles may follow each role (`start`: the first message). */
const NEXT: Record<Role | "start", readonly Role[]> = {
  start: ["system", "user"],
  system: ["user"],
  user: ["assistant"],
  assistant: ["user", "tool"],
  tool: ["tool", "assistant"],
};

const describe = (where: string | undefined) => where ?? "conversation";

/** A role from JSON: one of `ROLES`, or OpenAI's `developer` (= system). */
export function normalizeRole(role: unknown, where: string): Role {
  if (role === "developer") return "system";
  if (typeof role === "string" && (ROLES as readonly string[]).includes(role)) return role as Role;
  throw new UserError(
    `${where}: unknown role ${JSON.stringify(role)}`,
    `a role is one of ${ROLES.join(", ")} (or developer, read as system)`,
  );
}

/**
 * A message from parsed JSON. Content is a string, or OpenAI's list of text parts
 * (`[{type: "text", text}]`, joined); other fields (name, tool_call_id, …) are dropped.
 */
export function messageFromJson(value: unknown, where: string): Message {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UserError(`${where}: a message must be an object {"role", "content"}`);
  }
  const v = value as Record<string, unknown>;
  const role = normalizeRole(v.role, where);
  let content = v.content;
  if (Array.isArray(content)) {
    const parts = content.map((p) =>
      typeof p === "object" && p !== null && (p as { type?: unknown }).type === "text"
        ? (p as { text?: unknown }).text
        : undefined,
    );
    if (parts.every((p) => typeof p === "string")) content = parts.join("");
  }
  if (typeof content !== "string") {
    throw new UserError(
      `${where} (${role}): content must be a string, not ${content === null ? "null" : Array.isArray(content) ? "a list with non-text parts" : typeof content}`,
    );
  }
  return { role, content };
}

/** A conversation from parsed JSON (`{"messages": [...]}`); its order is checked too. */
export function conversationFromJson(
  value: unknown,
  where: string,
  end: ConversationEnd = "any",
): Conversation {
  const messages = (value as { messages?: unknown } | null)?.messages;
  if (
    typeof value !== "object" ||
    value === null ||
    Array.isArray(value) ||
    !Array.isArray(messages)
  ) {
    throw new UserError(
      `${where}: expected an object {"messages": [...]}`,
      'each line is one conversation: {"messages": [{"role": "user", "content": "…"}, …]}',
    );
  }
  const conv = {
    messages: messages.map((m, i) => messageFromJson(m, `${where}: message ${i + 1}`)),
  };
  checkConversation(conv.messages, { where, end });
  return conv;
}

export interface CheckOptions {
  /** Names the conversation in errors (e.g. `file.jsonl:12`). */
  where?: string;
  /** Where it must end (default "any"). */
  end?: ConversationEnd;
}

/** Checks roles, content types and turn order (see the file comment); throws a `UserError`. */
export function checkConversation(messages: readonly Message[], opts: CheckOptions = {}): void {
  const where = describe(opts.where);
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new UserError(`${where}: the conversation has no messages`);
  }
  let prev: Role | "start" = "start";
  messages.forEach((m, i) => {
    const at = `${where}: message ${i + 1}`;
    const role = normalizeRole(m?.role, at); // developer → system; unknown roles throw
    if (typeof m.content !== "string") {
      throw new UserError(`${at} (${role}): content must be a string, not ${typeof m.content}`);
    }
    if (!NEXT[prev].includes(role)) {
      const after = prev === "start" ? "at the start" : `after ${prev}`;
      throw new UserError(
        `${at}: ${role === "assistant" ? "an" : "a"} ${role} message cannot come ${after} (expected ${NEXT[prev].join(" or ")})`,
        "order: an optional system message first, then user and assistant alternating from " +
          "user; tool messages only after an assistant turn",
      );
    }
    prev = role;
  });
  const last = messages[messages.length - 1]!.role;
  const end = opts.end ?? "any";
  if (end === "assistant" && last !== "assistant") {
    throw new UserError(
      `${where}: a training conversation must end with an assistant message, not ${last}`,
    );
  }
  if (end === "prompt" && last !== "user" && last !== "tool") {
    throw new UserError(
      `${where}: a prompt must end with a user or tool message (the assistant answers next), not ${last}`,
    );
  }
}
