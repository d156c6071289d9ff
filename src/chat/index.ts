/** Conversations: the shared types, rendering to ids + loss mask, parsing, JSONL, packing, template. */
export { CHAT_TOKENS, type Conversation, type Message, type Role } from "./conversation.js";
export {
  conversationsToJsonl,
  type ReadOptions,
  readConversations,
  type SourcedConversation,
  streamConversations,
  writeConversations,
} from "./jsonl.js";
export { type PackedConversations, type PackOptions, packConversations } from "./pack.js";
export { type ParsedReply, parseConversation, parseReply } from "./parse.js";
export {
  type ChatTokenIds,
  chatTokenIds,
  checkLength,
  type RenderedConversation,
  type RenderOptions as ChatRenderOptions,
  renderConversation,
  renderMessages,
  renderPrompt,
  SPANS,
} from "./render.js";
export { CHATML_TEMPLATE, hasChatTokens, TEMPLATE_TOKENS } from "./template.js";
export {
  type CheckOptions,
  type ConversationEnd,
  checkConversation,
  conversationFromJson,
  messageFromJson,
  normalizeRole,
  ROLES,
} from "./validate.js";
