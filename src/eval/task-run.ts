/**
 * Running a task's examples against a chat model: each example's prompt (every message but the
 * reference reply) is rendered, the model replies (greedy by default) until it closes its turn,
 * and the task's scorer judges the reply. Accuracy comes with a 95% Wilson interval, and the
 * share of replies that ended with `<|im_end|>` before the length limit is counted too.
 */
import { CHAT_TOKENS } from "../chat/conversation.js";
import { renderPrompt } from "../chat/render.js";
import { type Decoder, generate } from "../infer/generate.js";
import type { Score, Task, TaskExample } from "../tasks/task.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";

export interface ScoredExample {
  id: string;
  /** The last user message. */
  prompt: string;
  reference: string;
  reply: string;
  /** The reply closed its turn with <|im_end|>. */
  ended: boolean;
  score: Score;
  meta: Record<string, unknown>;
}

export interface TaskResult {
  task: string;
  n: number;
  correct: number;
  accuracy: number;
  /** 95% Wilson score interval of the accuracy. */
  ci95: [number, number];
  /** Replies that ended with <|im_end|> within the length limit. */
  ended: number;
  examples: ScoredExample[];
}

/** The 95% Wilson score interval for k successes in n trials. */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

export interface TaskRunOptions {
  maxNewTokens: number;
  temperature?: number;
  seed?: number;
  onExample?: (done: number, total: number) => void;
}

export function runTask(
  decoder: Decoder,
  tok: Tokenizer,
  task: Task,
  examples: TaskExample[],
  o: TaskRunOptions,
): TaskResult {
  const imEnd = tok.specialTokenId(CHAT_TOKENS.imEnd);
  const stops = [imEnd, tok.specialTokenId(CHAT_TOKENS.imStart)];
  const scored: ScoredExample[] = [];
  for (const [i, ex] of examples.entries()) {
    const msgs = ex.conversation.messages;
    const prompt = renderPrompt(tok, msgs.slice(0, -1));
    const room = decoder.contextLength - prompt.length;
    const g =
      room > 1
        ? generate(decoder, tok, prompt, {
            maxNewTokens: Math.min(o.maxNewTokens, room),
            temperature: o.temperature ?? 0,
            seed: (o.seed ?? 0) + i,
            stopTokens: stops,
          })
        : { text: "", stopToken: undefined };
    const users = msgs.filter((m) => m.role === "user");
    scored.push({
      id: ex.id,
      prompt: users.at(-1)?.content ?? "",
      reference: msgs.at(-1)?.content ?? "",
      reply: g.text,
      ended: g.stopToken === imEnd,
      score: task.score(ex, g.text),
      meta: ex.meta,
    });
    o.onExample?.(i + 1, examples.length);
  }
  const correct = scored.filter((s) => s.score.correct).length;
  return {
    task: task.name,
    n: scored.length,
    correct,
    accuracy: scored.length ? correct / scored.length : 0,
    ci95: wilson(correct, scored.length),
    ended: scored.filter((s) => s.ended).length,
    examples: scored,
  };
}
