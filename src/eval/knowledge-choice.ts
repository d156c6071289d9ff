/**
 * Knowledge QA as a four-way choice: after the question, is the reference answer ("The capital
 * of Peru is Lima.") more probable than the same sentence with three wrong values of the same
 * relation, drawn from other entities ("… is Oslo.")? Options are compared by log-likelihood per
 * byte (lm-eval's acc_norm), so longer names are not penalised; chance is 25%. This measures
 * what the model knows even where it cannot yet say it.
 */
import { CHAT_TOKENS } from "../chat/conversation.js";
import { renderPrompt } from "../chat/render.js";
import type { LanguageModel } from "../model/factory.js";
import { hash32, normalizeText, rngFor, shuffle } from "../tasks/common.js";
import { type QaRelation, referenceAnswer } from "../tasks/knowledge-qa.js";
import type { TaskContext, TaskExample } from "../tasks/task.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { bestOption, optionLogprobs } from "./choice.js";

export const CHOICES = 4;

/** Every value of each relation in the knowledge base (the distractor pools), sorted. */
function valuePools(ctx: TaskContext): Map<string, string[]> {
  const pools = new Map<string, Set<string>>();
  for (const e of ctx.knowledge.entities)
    for (const f of e.facts) {
      let s = pools.get(f.relation);
      if (!s) pools.set(f.relation, (s = new Set()));
      s.add(f.value);
    }
  return new Map([...pools].map(([r, s]) => [r, [...s].sort()]));
}

/** For each example: whether the reference answer was the most probable of CHOICES options. */
export function knowledgeChoice(
  model: LanguageModel,
  tok: Tokenizer,
  examples: readonly TaskExample[],
  ctx: TaskContext,
): boolean[] {
  const pools = valuePools(ctx);
  const imEnd = tok.specialTokenId(CHAT_TOKENS.imEnd);
  const pad = tok.specialTokenId("<|endoftext|>");
  return examples.map((ex) => {
    const msgs = ex.conversation.messages;
    const relation = ex.meta.relation as QaRelation;
    const name = (ex.meta.names as string[])[0]!;
    const accepted = new Set((ex.meta.accepted as string[]).map(normalizeText));
    const wrong = (pools.get(relation) ?? []).filter((v) => !accepted.has(normalizeText(v)));
    if (wrong.length < CHOICES - 1) return false;
    const picked = shuffle([...wrong], rngFor(hash32(ex.id), "choice")).slice(0, CHOICES - 1);
    const texts = [
      msgs.at(-1)!.content,
      ...picked.map((v) => referenceAnswer(relation, name, [v])),
    ];
    const options = texts.map((t) => [...tok.encodeOrdinary(t), imEnd]);
    const lp = optionLogprobs(model, renderPrompt(tok, msgs.slice(0, -1)), options, pad);
    const perByte = lp.map((l, i) => l / Math.max(1, Buffer.byteLength(texts[i]!)));
    return bestOption(perByte) === 0;
  });
}
