/**
 * The tasks (DESIGN.md §4): the registry (`TASKS`, `taskByName`), each task's generator and
 * scorer, and SFT mixtures — for SFT, `eval` and RL.
 */

export {
  ARITHMETIC_DIGITS,
  ARITHMETIC_STEPS,
  ARITHMETIC_STYLES,
  type ArithmeticCell,
  type ArithmeticOptions,
  type ArithmeticStyle,
  arithmetic,
  arithmeticCellOf,
  arithmeticCells,
  arithmeticTask,
  codeCall,
  scoreArithmetic,
} from "./arithmetic.js";
export {
  claimedOtherAssistant,
  formatCountInWords,
  IDENTITY_TOPICS,
  type IdentityTopic,
  identity,
  identityReply,
  identityTemplates,
  OTHER_ASSISTANTS,
  OTHER_MAKERS,
  scoreIdentity,
  topicKeywords,
} from "./identity.js";
export {
  accuracyByMentionBucket,
  type BucketAccuracy,
  entitySplit,
  type KnowledgeQaOptions,
  knowledgeQa,
  knowledgeQaTask,
  MENTION_BUCKETS,
  type MentionBucket,
  matchAnswer,
  mentionBucket,
  mentionsOf,
  QA_RELATIONS,
  type QaRelation,
  RELATIONS,
  referenceAnswer,
  scoreKnowledgeQa,
} from "./knowledge-qa.js";
export {
  LETTER_KINDS,
  LETTER_STYLES,
  type LetterKind,
  type LetterStyle,
  type LettersCell,
  type LettersOptions,
  letters,
  lettersCellOf,
  lettersCells,
  lettersTask,
  scoreLetters,
} from "./letters.js";
export {
  LOOKUP_STYLES,
  type LookupCell,
  type LookupOptions,
  type LookupStyle,
  lookup,
  lookupCellOf,
  lookupCells,
  lookupTask,
  scoreLookup,
  searchCall,
} from "./lookup.js";
export {
  DEFAULT_MIXTURE_SIZE,
  DEFAULT_MIXTURE_WEIGHTS,
  type MixtureOptions,
  type MixtureWeights,
  mixtureCounts,
  parseMixtureWeights,
  sftMixture,
} from "./mixture.js";
export { TASK_NAMES, TASKS, taskByName } from "./registry.js";
export {
  ON_TOPIC_WORDS,
  SMALLTALK_TOPICS,
  type SmalltalkTopic,
  scoreSmalltalk,
  smalltalk,
  smalltalkReply,
} from "./smalltalk.js";
export {
  commonWords,
  type SpellingOptions,
  scoreSpelling,
  spelledRuns,
  spelling,
  spellingReply,
  spellingTask,
  wordSplit,
} from "./spelling.js";
export type * from "./task.js";
