/**
 * Conversations and settings in localStorage: they survive a reload. When the browser's quota is
 * full, the token-by-token detail (segments) of the oldest conversations is dropped first.
 */
import type { Conversation, Settings } from "./types.js";

const CONVERSATIONS = "chatforge.conversations";
const SETTINGS = "chatforge.settings";

export const DEFAULT_SETTINGS: Settings = {
  apiKey: "",
  model: "",
  system: "",
  temperature: 0.8,
  topP: 1,
  maxTokens: 256,
  seed: null,
  tokenView: false,
};

function read<T>(key: string): T | undefined {
  try {
    const s = localStorage.getItem(key);
    return s === null ? undefined : (JSON.parse(s) as T);
  } catch {
    return undefined;
  }
}

export function loadSettings(): Settings {
  return { ...DEFAULT_SETTINGS, ...(read<Partial<Settings>>(SETTINGS) ?? {}) };
}

export function saveSettings(s: Settings): void {
  localStorage.setItem(SETTINGS, JSON.stringify(s));
}

/** Most recently updated first. */
export function loadConversations(): Conversation[] {
  const all = read<Conversation[]>(CONVERSATIONS);
  if (!Array.isArray(all)) return [];
  return all
    .filter((c) => c && typeof c.id === "string" && Array.isArray(c.messages))
    .sort((a, b) => b.updated - a.updated);
}

export function saveConversations(all: Conversation[]): void {
  let list = all;
  for (;;) {
    try {
      localStorage.setItem(CONVERSATIONS, JSON.stringify(list));
      return;
    } catch {
      // over quota: forget the token detail of the oldest conversation that still has some
      const victim = [...list]
        .sort((a, b) => a.updated - b.updated)
        .find((c) => c.messages.some((m) => m.segments));
      if (!victim) return;
      list = list.map((c) =>
        c === victim ? { ...c, messages: c.messages.map(({ segments: _, ...m }) => m) } : c,
      );
    }
  }
}

export const newId = (): string =>
  `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
