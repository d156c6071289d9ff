/** The corpus stage: offline sources → crawl-like gzipped WARC files. */
export {
  buildCorpus,
  type CorpusBuildOptions,
  type CorpusSummary,
  formatSummary,
} from "./build.js";
export { type CorpusDoc, stableRecordId } from "./document.js";
export {
  drawMentions,
  KNOWLEDGE_PAGES_FILE,
  KNOWLEDGE_SOURCE,
  type KnowledgeDoc,
  type KnowledgePageRecord,
  type KnowledgeSourceOptions,
  knowledgeSource,
  planPages,
  renderKnowledgePage,
  type StatedEntity,
} from "./sources/knowledge.js";
export { PACKAGED_DATASETS, type PackagedDataset } from "./sources/packaged.js";
export { type VerifyResult, verifyCorpus } from "./verify.js";
export { ShardedWarcWriter, type WarcFileStats, warcFileName } from "./warc-writer.js";
