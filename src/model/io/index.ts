/**
 * Model files: safetensors checkpoints with HF config.json, and GGUF export/import for llama.cpp
 * (see each file's header for the byte layouts and name maps).
 */
export {
  CONFIG_JSON,
  type HfCheckpoint,
  loadHfCheckpoint,
  saveHfCheckpoint,
  WEIGHTS_FILE,
} from "./checkpoint.js";
export { type ExportResult, exportCheckpointToGguf, resolveCheckpointDir } from "./export.js";
export {
  GgmlType,
  type GgufFile,
  type GgufTensor,
  type GgufTensorIn,
  GgufType,
  type GgufValue,
  ggufTensorF32,
  kv,
  parseGguf,
  readGguf,
  serializeGguf,
  writeGguf,
} from "./gguf.js";
export {
  buildGguf,
  configFromGguf,
  exportGguf,
  type GgufDtype,
  type GgufExportOptions,
  importGguf,
  modelMetadata,
} from "./gguf-export.js";
export {
  buildGgufVocab,
  byteToUnicode,
  ggufPreTokenizer,
  readGgufVocab,
  TOKEN_TYPE,
  type TokenizerSource,
  tokenizerMetadata,
} from "./gguf-tokenizer.js";
export {
  type Gpt2ModelConfig,
  type LlamaModelConfig,
  type ModelConfig,
  parseHfConfig,
  readHfConfig,
  toHfConfig,
  writeHfConfig,
} from "./hf-config.js";
export {
  type ReferenceOptions,
  referenceGreedy,
  referenceLogits,
} from "./reference-forward.js";
export {
  type F32Tensor,
  parseSafetensors,
  readSafetensors,
  type SafetensorsDtype,
  type SafetensorsFile,
  type StoredTensor,
  serializeSafetensors,
  type TensorToWrite,
  toFloat32,
  writeSafetensors,
} from "./safetensors.js";
export {
  ggufToHfTensors,
  hfToGgufTensors,
  type NameMapEntry,
  tensorNameMap,
} from "./tensor-names.js";
