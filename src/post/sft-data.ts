/**
 * The SFT data: conversations from the tasks' mixture (their train split for training, their
 * val split for the validation loss) and from the user's JSONL files, rendered to ids plus
 * loss mask and packed into rows of the model's context. Deterministic for a seed, so a
 * resumed SFT run rebuilds exactly the rows it was trained on (checked by their hash).
 */
import type { Conversation } from "../chat/conversation.js";
import { streamConversations } from "../chat/jsonl.js";
import { packConversations } from "../chat/pack.js";
import { type RenderedConversation, renderConversation } from "../chat/render.js";
import { sftMixture } from "../tasks/mixture.js";
import type { Split, TaskContext, TaskExample } from "../tasks/task.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { UserError } from "../util/errors.js";
import { hashRows, type PackedRows } from "./sft.js";

export interface SftDataOptions {
  tok: Tokenizer;
  /** Row length: the model's context. */
  T: number;
  /** Task weights (task name → weight); empty = no task data. */
  mixture: Record<string, number>;
  /** Task examples in the training mixture. */
  examples: number;
  /** Task examples for the validation loss. */
  valExamples: number;
  ctx: TaskContext;
  /** User JSONL files of conversations (all of them go to training). */
  files: string[];
}

export interface SftSourceStats {
  conversations: number;
  tokens: number;
  trained: number;
  /** Task examples left out because they do not fit the context (a small tokenizer's long rendering). */
  tooLong?: number;
}

export interface SftData {
  train: PackedRows;
  val: PackedRows;
  hash: string;
  /** Per source (task name or file): conversations, tokens, mask-1 tokens. */
  sources: Record<string, SftSourceStats>;
}

function add(stats: Record<string, SftSourceStats>, name: string, ids: number[], mask: Uint8Array) {
  const s = (stats[name] ??= { conversations: 0, tokens: 0, trained: 0 });
  s.conversations++;
  s.tokens += ids.length;
  for (const m of mask) s.trained += m;
}

function taskConversations(o: SftDataOptions, split: Split, n: number) {
  if (n <= 0 || Object.keys(o.mixture).length === 0) return [];
  return sftMixture(o.ctx, o.mixture, split, { size: n }).map((ex: TaskExample) => ({
    source: ex.id.split("/")[0]!,
    where: `task example ${ex.id}`,
    conv: ex.conversation,
  }));
}

export async function buildSftData(o: SftDataOptions): Promise<SftData> {
  const items: { source: string; where: string; conv: Conversation }[] = taskConversations(
    o,
    "train",
    o.examples,
  );
  for (const f of o.files) {
    const before = items.length;
    for await (const { conversation, where } of streamConversations(f, { end: "assistant" }))
      items.push({ source: f, where, conv: conversation });
    if (items.length === before)
      throw new UserError(`${f}: no conversations in it`, 'write one {"messages": [...]} per line');
  }
  const sources: Record<string, SftSourceStats> = {};
  /**
   * Renders the items that fit: a user's conversation over the context is an error (they
   * should know), a task example over it is left out and counted (how long a task's rendering
   * is depends on the tokenizer).
   */
  const render = (list: typeof items, stats?: Record<string, SftSourceStats>) => {
    const kept: typeof items = [];
    const rendered: RenderedConversation[] = [];
    for (const item of list) {
      const fromTask = !o.files.includes(item.source);
      const r = renderConversation(o.tok, item.conv, {
        maxTokens: fromTask ? undefined : o.T + 1,
        where: item.where,
      });
      if (r.ids.length > o.T + 1) {
        if (stats) {
          const st = (stats[item.source] ??= { conversations: 0, tokens: 0, trained: 0 });
          st.tooLong = (st.tooLong ?? 0) + 1;
        }
        continue;
      }
      if (stats) add(stats, item.source, r.ids, r.mask);
      kept.push(item);
      rendered.push(r);
    }
    return { kept, rendered };
  };
  const pack = ({ kept, rendered }: ReturnType<typeof render>): PackedRows =>
    packConversations(rendered, o.T, {
      padId: o.tok.specialTokenId("<|endoftext|>"),
      where: (i) => kept[i]!.where,
    });
  const train = pack(render(items, sources));
  const val = pack(render(taskConversations(o, "val", o.valExamples)));
  return { train, val, hash: hashRows(train), sources };
}
