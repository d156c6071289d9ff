/**
 * What the tasks need to know about a run: the knowledge base its corpus was rendered from,
 * how often pretraining saw each entity (`shards/mentions.json`), and the facts the identity
 * task answers with (the model's size, its data, how many tokens it read).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CorpusSummary } from "../corpus/build.js";
import { MENTIONS_FILE, readMentionCounts } from "../data/tokenize.js";
import { loadKnowledge } from "../knowledge/index.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import type { IdentityFacts, TaskContext } from "../tasks/task.js";
import type { TrainerState } from "../train/checkpoint.js";
import type { RunDir } from "../util/run-dir.js";

/** How the identity task describes each corpus source. */
const SOURCE_WORDS: Record<string, string> = {
  sotu: "State of the Union addresses",
  "moby-dick": "the novel Moby-Dick",
  "spam-assassin": "old e-mails",
  knowledge: "encyclopedia pages about countries, elements, people and cities",
};

export function describeCorpus(summary: CorpusSummary | undefined): string {
  if (!summary) return "public-domain text";
  const parts = Object.keys(summary.sources).map((s) => SOURCE_WORDS[s] ?? s);
  if (parts.length <= 1) return parts[0] ?? "public-domain text";
  return `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}

export function identityFacts(
  run: RunDir,
  cfg: ModelConfig,
  params: number,
  base: TrainerState,
): IdentityFacts {
  const summaryPath = run.path("corpus", "summary.json");
  const summary = existsSync(summaryPath)
    ? (JSON.parse(readFileSync(summaryPath, "utf8")) as CorpusSummary)
    : undefined;
  return {
    family: cfg.family,
    params,
    layers: cfg.nLayer,
    contextLength: cfg.nCtx,
    data: describeCorpus(summary),
    tokens: base.tokensSeen,
  };
}

/** The task context of a run: knowledge base, mention counts (when tokenized), identity. */
export function runTaskContext(run: RunDir, identity: IdentityFacts, seed = 0): TaskContext {
  const shards = run.path("shards");
  const mentions = existsSync(join(shards, MENTIONS_FILE)) ? readMentionCounts(shards) : undefined;
  return { seed, knowledge: loadKnowledge(), identity, mentions };
}
