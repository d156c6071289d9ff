/**
 * The chat layout (DESIGN.md §4) as a Jinja template, stored as `tokenizer.chat_template` in GGUF
 * files and as `chat_template` in HF `tokenizer_config.json`, so that llama.cpp, LM Studio, Ollama
 * and transformers render a conversation to the ids `renderConversation` / `renderPrompt` give:
 *
 *   <|im_start|>system<|im_sep|>…<|im_end|><|im_start|>user<|im_sep|>…<|im_end|>
 *   <|im_start|>assistant<|im_sep|>…<|im_end|>           (no BOS, no newlines between turns)
 *
 * Every role renders the same way, its name as the header: system, user, assistant, tool
 * (OpenAI's `developer` is written as `system`, as `normalizeRole` does). `add_generation_prompt`
 * appends `<|im_start|>assistant<|im_sep|>`. The template is one line with whitespace control on
 * every tag, so HF's `trim_blocks`/`lstrip_blocks` and engines without them give the same text.
 *
 * What the template cannot express, and the engines do differently from us: they parse special-token
 * text inside message contents as special tokens (llama.cpp tokenizes the whole rendered prompt
 * with specials on), while `renderConversation` encodes user, system and tool text as ordinary text
 * and lets assistant text hold only the tool-span tokens. For text without special-token strings
 * the ids are identical (tested against node-llama-cpp in template.test.ts).
 */
export const CHATML_TEMPLATE =
  "{%- for message in messages -%}" +
  "{%- if message['role'] == 'developer' -%}{%- set role = 'system' -%}" +
  "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}" +
  "{{- '<|im_start|>' + role + '<|im_sep|>' + message['content'] + '<|im_end|>' -}}" +
  "{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant<|im_sep|>' -}}{%- endif -%}";

/** The special tokens a tokenizer needs for the template (and for `renderConversation`). */
export const TEMPLATE_TOKENS = ["<|im_start|>", "<|im_sep|>", "<|im_end|>"] as const;

/** True if a tokenizer with these special tokens can use the chat template. */
export function hasChatTokens(specialTokens: ReadonlyMap<string, number>): boolean {
  return TEMPLATE_TOKENS.every((t) => specialTokens.has(t));
}
