/**
 * A task (DESIGN.md §4): a deterministic generator of examples with disjoint train/val/test
 * splits (by entity or by template, never only by index), each example a conversation whose
 * last message is the reference assistant reply, and a scorer of a model's reply. SFT mixes
 * the tasks' train splits; evaluation runs their test splits; RL will use the scorers as
 * rewards. A new capability is a new task file beside this one.
 */
import type { Conversation } from "../chat/conversation.js";
import type { KnowledgeBase, MentionCounts } from "../knowledge/types.js";

export type Split = "train" | "val" | "test";

export interface TaskExample {
  /** Stable across runs with the same inputs: `<task>/<split>/<n>` or similar. */
  id: string;
  /** The whole exchange; the last message is the reference assistant reply. */
  conversation: Conversation;
  /** What the scorer needs (entity key, relation, accepted answers, template id, …). */
  meta: Record<string, unknown>;
}

export interface Score {
  /** The example counts as solved. */
  correct: boolean;
  /** In [0, 1]; 1 for correct. A partial-credit reward where the task has one (RL). */
  reward: number;
  /** Why, in a few words ("names itself ChatGPT", "answer 1809 not found"). */
  reason: string;
  /** Secondary signals a report may show beside correctness (identity: did it answer the topic). */
  details?: Record<string, unknown>;
}

/** What a model and its run are: the identity task answers with these. */
export interface IdentityFacts {
  /** Model family and size, e.g. "gpt2", 1_900_000. */
  family: string;
  params: number;
  layers: number;
  contextLength: number;
  /** A one-line description of the pretraining data, e.g. "State of the Union addresses, …". */
  data: string;
  /** Pretraining tokens seen. */
  tokens: number;
}

export interface TaskContext {
  seed: number;
  knowledge: KnowledgeBase;
  identity: IdentityFacts;
  /** Mention counts of the run (knowledge QA reports accuracy by how often pretraining saw a fact). */
  mentions?: MentionCounts;
  /**
   * The run's search tool as the engine calls it: a query → the text it injects between
   * `<|output_start|>` and `<|output_end|>` (src/tools/search.ts over `runs/<run>/index/`), so
   * that reference replies that search hold exactly what the model will read at inference.
   * Optional: without it, "lookup" renders the output from the entity's reference passage.
   */
  search?: (query: string) => string;
}

export interface Task {
  name: string;
  /** One line: what the task teaches. */
  description: string;
  /** The split's examples, deterministic for a context. */
  examples(split: Split, ctx: TaskContext): TaskExample[];
  /** Scores a model's reply to the example's prompt (all messages but the last). */
  score(example: TaskExample, reply: string): Score;
}
