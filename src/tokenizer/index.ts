/** The tokenizer: byte-level BPE with regex pre-tokenization (see each file's header). */
export { BpeRanks, PairTable } from "./bpe.js";
export { CONFIG_FILE, loadTokenizer, RANKS_FILE, saveTokenizer } from "./format.js";
export { bytesToUnicode, exportHuggingFace, toHuggingFaceJson } from "./hf.js";
export { listInputFiles, readDocuments } from "./inputs.js";
export {
  BUILTIN_PATTERNS,
  CL100K_PATTERN,
  O200K_PATTERN,
  R50K_PATTERN,
  regexScanner,
  resolvePattern,
  scannerFor,
  splitText,
} from "./patterns.js";
export { translatePattern } from "./regex.js";
export {
  type CompressionRow,
  compressionReport,
  formatCompressionReport,
  NAMED_TOKENIZERS,
  openTokenizer,
  type RenderOptions,
  renderTokens,
  tokenStats,
} from "./report.js";
export type { ChunkSink, Scanner } from "./scanners.js";
export {
  loadTiktokenRanks,
  parseTiktokenRanks,
  TIKTOKEN_ENCODINGS,
  type TiktokenName,
} from "./tiktoken-files.js";
export { type EncodeOptions, StreamDecoder, Tokenizer } from "./tokenizer.js";
export {
  countChunks,
  DEFAULT_SPECIAL_TOKENS,
  learnMerges,
  type TrainOptions,
  type TrainStats,
  trainTokenizer,
  trainTokenizerWithStats,
} from "./train.js";
