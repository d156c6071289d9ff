/** What the page keeps in localStorage (store.ts) and shows (main.ts). */

/** One alternative at a generated step: its text and ln p. */
export interface Alt {
  token: string;
  logprob: number;
  /** Kept only for a token that is part of a UTF-8 character (its text is U+FFFD). */
  bytes?: number[];
}

/** A generated token: the text it added to the reply, and (when the model chose it) its logprobs. */
export interface Segment {
  text: string;
  lp?: Alt & { top: Alt[] };
}

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
  /** Assistant replies streamed with logprobs: the reply token by token. */
  segments?: Segment[];
  /** stop, length, stopped (by the user), error. */
  finish?: string;
  error?: string;
  model?: string;
}

export interface Conversation {
  id: string;
  title: string;
  /** Unix ms. */
  updated: number;
  messages: ChatMessage[];
  /** Set on a conversation forked from another one's reply at a token. */
  branchOf?: { id: string; title: string };
}

export interface Settings {
  apiKey: string;
  model: string;
  system: string;
  temperature: number;
  topP: number;
  maxTokens: number;
  /** null: a random seed per request. */
  seed: number | null;
  tokenView: boolean;
}

/** A token of POST /v1/chat/render. */
export interface RenderedToken {
  id: number;
  piece: string;
  special: boolean;
}

export interface Rendered {
  tokens: RenderedToken[];
  messages: { start: number; end: number }[];
}
