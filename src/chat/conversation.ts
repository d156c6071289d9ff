/**
 * A conversation, in the OpenAI messages shape (DESIGN.md §4): what SFT data, the tasks, the
 * chat CLI, the API and the web page all use. On disk it is JSONL, one `{"messages": […]}`
 * object per line.
 */

export type Role = "system" | "user" | "assistant" | "tool";

export interface Message {
  role: Role;
  /**
   * The text. An assistant message may contain tool-call spans it wrote
   * (`<|python_start|>…<|python_end|>`) and the engine's answers (`<|output_start|>…<|output_end|>`),
   * written as those special-token strings.
   */
  content: string;
}

export interface Conversation {
  messages: Message[];
}

/** The special tokens of the chat layout. */
export const CHAT_TOKENS = {
  imStart: "<|im_start|>",
  imSep: "<|im_sep|>",
  imEnd: "<|im_end|>",
  pythonStart: "<|python_start|>",
  pythonEnd: "<|python_end|>",
  searchStart: "<|search_start|>",
  searchEnd: "<|search_end|>",
  outputStart: "<|output_start|>",
  outputEnd: "<|output_end|>",
} as const;
