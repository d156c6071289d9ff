/**
 * A chat model on the tasks' test splits (phrasings, entities and words it never saw in SFT):
 * per task accuracy with its 95% interval, how often replies closed their turn, and knowledge QA
 * by how often pretraining saw the entity. Written to `runs/<run>/eval/<stage>.json`.
 */
import { Engine } from "../infer/engine.js";
import { openForGeneration } from "../infer/load.js";
import { accuracyByMentionBucket } from "../tasks/knowledge-qa.js";
import type { Task, TaskContext } from "../tasks/task.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { Tool } from "../tools/tool.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { Progress } from "../util/progress.js";
import type { RunDir } from "../util/run-dir.js";
import { knowledgeChoice } from "./knowledge-choice.js";
import { runTask, type TaskResult, wilson } from "./task-run.js";

export interface Rate {
  n: number;
  correct: number;
  accuracy: number;
  /** 95% Wilson interval. */
  ci95: [number, number];
}

export interface BucketRow extends Rate {
  bucket: string;
  /** The same questions as a four-way choice by likelihood (src/eval/knowledge-choice.ts). */
  choice: Rate;
}

function rate(correct: number, n: number): Rate {
  return { n, correct, accuracy: n ? correct / n : 0, ci95: wilson(correct, n) };
}

export interface ChatEval {
  stage: string;
  checkpoint: string;
  tasks: TaskResult[];
  /** Replies (all tasks) that ended with <|im_end|> before the length limit. */
  ended: { n: number; ended: number; fraction: number };
  /** Knowledge QA accuracy by mention-count bucket (when the run has mention counts). */
  knowledgeByBucket: BucketRow[];
  /** Knowledge QA's test questions as a four-way choice by likelihood (chance 25%). */
  knowledgeChoice?: Rate;
  /** Replies were cut after this many tokens. */
  maxNewTokens: number;
  /** The tools the model could call, by name. */
  tools: string[];
  seconds: number;
}

export interface ChatEvalOptions {
  run: RunDir;
  stage: string;
  checkpoint: string;
  tok: Tokenizer;
  ctx: TaskContext;
  tasks: readonly Task[];
  /** At most this many test examples per task (deterministic: the first ones). */
  limit?: number;
  maxNewTokens?: number;
  quiet?: boolean;
  /** Tools the model may call (src/tools/). */
  tools?: readonly Tool[];
}

/** Replies generated together (one decoder pass per token for all of them). */
const EVAL_BATCH = 8;

/** Long enough for a step-by-step arithmetic reply with three code calls. */
export const EVAL_MAX_NEW_TOKENS = 160;

export async function evalChatModel(o: ChatEvalOptions): Promise<ChatEval> {
  const t0 = performance.now();
  const maxNewTokens = o.maxNewTokens ?? EVAL_MAX_NEW_TOKENS;
  const { ckpt, decoder } = await openForGeneration(o.checkpoint, o.tok, EVAL_BATCH);
  const engine = new Engine(decoder, o.tok, o.tools ?? []);
  const jobs = o.tasks.map((task) => {
    const all = task.examples("test", o.ctx);
    return { task, examples: o.limit ? all.slice(0, o.limit) : all };
  });
  const total = jobs.reduce((a, j) => a + j.examples.length, 0);
  const progress = new Progress(`eval ${o.stage}`, { total, unit: "replies", quiet: o.quiet });
  let done = 0;
  const results: TaskResult[] = [];
  for (const { task, examples } of jobs) {
    const base = done;
    results.push(
      runTask(engine, o.tok, task, examples, {
        maxNewTokens,
        onExample: (k) => progress.update(base + k, task.name),
      }),
    );
    done += examples.length;
  }
  progress.finish();
  const n = results.reduce((a, r) => a + r.n, 0);
  const ended = results.reduce((a, r) => a + r.ended, 0);
  const k = results.findIndex((r) => r.task === "knowledge-qa");
  let knowledgeByBucket: BucketRow[] = [];
  let knowledgeChoiceRate: Rate | undefined;
  if (k >= 0) {
    const examples = jobs[k]!.examples;
    const chosen = knowledgeChoice(ckpt.model, o.tok, examples, o.ctx);
    knowledgeChoiceRate = rate(chosen.filter(Boolean).length, chosen.length);
    if (o.ctx.mentions) {
      const by = (correct: (i: number) => boolean) =>
        accuracyByMentionBucket(
          examples.map((example, i) => ({
            example,
            score: { correct: correct(i), reward: 0, reason: "" },
          })),
          o.ctx.mentions,
        );
      const gen = by((i) => results[k]!.examples[i]!.score.correct);
      const choice = by((i) => chosen[i]!);
      knowledgeByBucket = gen
        .map((b, i) => ({
          bucket: b.bucket,
          ...rate(b.correct, b.n),
          choice: rate(choice[i]!.correct, choice[i]!.n),
        }))
        .filter((b) => b.n > 0);
    }
  }
  const out: ChatEval = {
    stage: o.stage,
    checkpoint: ckpt.dir,
    tasks: results,
    ended: { n, ended, fraction: n ? ended / n : 0 },
    knowledgeByBucket,
    knowledgeChoice: knowledgeChoiceRate,
    maxNewTokens,
    tools: (o.tools ?? []).map((t) => t.name),
    seconds: (performance.now() - t0) / 1000,
  };
  await writeJsonAtomic(o.run.path("eval", `${o.stage}.json`), out);
  return out;
}
