/**
 * Task "smalltalk" — labelling instructions.
 *
 * The user greets, thanks, apologises, compliments, asks how you are or what you can do, or says
 * goodbye; sometimes two or three of these in one chat. Reply with one short, friendly
 * sentence or two that fits: greet back to a greeting, "you're welcome" to thanks, "no problem"
 * to an apology, "thank you" to a compliment, "goodbye" to a goodbye, "doing well" to "how are
 * you", and list what you can do when asked. Use the same reply for the same kind of message,
 * name yourself chatforge when you introduce yourself, and never repeat yourself.
 */
import { UserError } from "../util/errors.js";
import {
  distinctRenderings,
  drawSurface,
  isRepetitionLoop,
  normalizeWords,
  pick,
  renderPrompt,
  rngFor,
  SPLITS,
  splitTemplates,
} from "./common.js";
import { identityReply } from "./identity.js";
import type { Score, Split, Task, TaskContext, TaskExample } from "./task.js";

export type SmalltalkTopic =
  | "greeting"
  | "how-are-you"
  | "thanks"
  | "goodbye"
  | "apology"
  | "compliment"
  | "abilities";

interface Template {
  id: string;
  topic: SmalltalkTopic;
  text: string;
}

const T: Record<SmalltalkTopic, string[]> = {
  greeting: [
    "hi",
    "hello",
    "hey",
    "good morning",
    "hey there",
    "hello there",
    "hiya",
    "good evening",
    "greetings",
    "good afternoon",
    "howdy",
    "yo",
    "hi there",
    "hello friend",
  ],
  "how-are-you": [
    "how are {you}",
    "how are {you} doing",
    "how is it going",
    "how do {you} feel today",
    "are {you} ok",
    "how is {your} day",
    "how have {you} been",
    "how are things",
    "how is everything",
    "what is up",
    "how are {you} today",
    "are {you} doing well",
    "how is life",
  ],
  thanks: [
    "thanks",
    "thank {you}",
    "thanks a lot",
    "thank {you} so much",
    "thx",
    "many thanks",
    "thanks for the help",
    "cheers, thanks",
    "thanks so much",
    "thank {you} very much",
    "great, thanks",
    "ty",
    "i appreciate it",
    "thanks for that",
  ],
  goodbye: [
    "bye",
    "goodbye",
    "see {you} later",
    "good night",
    "i have to go now",
    "talk to {you} later",
    "see ya",
    "bye bye",
    "see {you} soon",
    "farewell",
    "i am leaving now",
    "catch {you} later",
    "have a nice day",
    "bye for now",
  ],
  apology: [
    "sorry",
    "i am sorry",
    "my bad",
    "sorry about that",
    "oops, sorry",
    "i apologize",
    "sorry for the typo",
    "sorry for that",
    "excuse me, my mistake",
    "apologies",
    "sorry, my fault",
    "forgive me",
  ],
  compliment: [
    "{you} are smart",
    "good job",
    "{you} are great",
    "nice answer",
    "well done",
    "i like {you}",
    "{you} are very helpful",
    "that was helpful",
    "{you} are awesome",
    "great job",
    "that was great",
    "{you} are clever",
    "nice work",
    "{you} rock",
  ],
  abilities: [
    "what can {you} do",
    "can {you} help me",
    "how can {you} help",
    "what do {you} do",
    "can {you} help me with something",
    "what kind of help can {you} give",
    "what are {you} able to help with",
    "how can {you} be useful",
    "what sort of things can {you} do",
    "can {you} help",
  ],
};

export const SMALLTALK_TOPICS = Object.keys(T) as SmalltalkTopic[];

const TEMPLATES: Template[] = SMALLTALK_TOPICS.flatMap((topic) =>
  T[topic].map((text) => ({ id: `${topic}:${text}`, topic, text })),
);

const QUESTION_TOPICS = new Set<SmalltalkTopic>(["how-are-you", "abilities"]);
const PREFIXES = ["ok ", "well, ", "oh, ", "hey, ", "alright, "];
const QUESTION_ENDS = ["?", "", "??"];
const OTHER_ENDS = ["", "!", ".", "!!"];

/** The reference reply of each topic (abilities is the identity task's, word for word). */
export function smalltalkReply(topic: SmalltalkTopic, ctx: TaskContext): string {
  switch (topic) {
    case "greeting":
      return "Hello! I am chatforge. How can I help you?";
    case "how-are-you":
      return "I am doing well, thank you! How can I help you?";
    case "thanks":
      return "You're welcome! I am glad I could help.";
    case "goodbye":
      return "Goodbye! It was nice talking with you.";
    case "apology":
      return "No problem at all! How can I help you?";
    case "compliment":
      return "Thank you, that is kind of you! I am glad to help.";
    case "abilities":
      return identityReply("abilities", ctx.identity);
  }
}

/** The words an on-topic reply contains (any one, after normalisation). */
export const ON_TOPIC_WORDS: Record<SmalltalkTopic, string[]> = {
  greeting: ["hello", "hi", "hey", "greetings", "good morning", "good evening", "welcome"],
  "how-are-you": ["well", "good", "fine", "great", "okay", "ok"],
  thanks: ["welcome", "glad", "pleasure", "anytime", "problem"],
  goodbye: ["bye", "goodbye", "farewell", "see you", "take care", "good night", "later"],
  apology: ["problem", "worries", "worry", "okay", "ok", "alright", "fine"],
  compliment: ["thank", "thanks", "glad", "kind", "appreciate"],
  abilities: ["answer", "questions", "chat", "spell", "facts"],
};

/** Templates of a split, by topic (stable: by hash of the template). */
export function smalltalkTemplates(split: Split): Map<SmalltalkTopic, Template[]> {
  const out = new Map<SmalltalkTopic, Template[]>();
  for (const topic of SMALLTALK_TOPICS) {
    out.set(topic, splitTemplates(TEMPLATES.filter((t) => t.topic === topic))[split]);
  }
  return out;
}

const PER_TEMPLATE: Record<Split, number> = { train: 10, val: 8, test: 8 };
const MULTI_TURN: Record<Split, number> = { train: 240, val: 60, test: 60 };

/** Topic sequences for multi-turn chats: what can open, what may follow, what ends. */
const OPENERS: SmalltalkTopic[] = ["greeting", "greeting", "how-are-you", "abilities", "apology"];
const MIDDLES: SmalltalkTopic[] = ["how-are-you", "abilities", "compliment", "thanks", "apology"];
const CLOSERS: SmalltalkTopic[] = ["thanks", "goodbye", "compliment", "goodbye"];

function generate(split: Split, ctx: TaskContext): TaskExample[] {
  const rng = rngFor(ctx.seed, "smalltalk", split);
  const byTopic = smalltalkTemplates(split);
  const prompt = (t: Template) =>
    renderPrompt(
      t.text,
      drawSurface(rng, PREFIXES, QUESTION_TOPICS.has(t.topic) ? QUESTION_ENDS : OTHER_ENDS),
    );
  const out: TaskExample[] = [];
  const push = (turns: { topic: SmalltalkTopic; template: string; text: string }[]) => {
    const messages = turns.flatMap((t) => [
      { role: "user" as const, content: t.text },
      { role: "assistant" as const, content: smalltalkReply(t.topic, ctx) },
    ]);
    const last = turns[turns.length - 1]!;
    out.push({
      id: `smalltalk/${split}/${out.length}`,
      conversation: { messages },
      meta: {
        topic: last.topic,
        template: last.template,
        templates: turns.map((t) => t.template),
        turns: turns.length,
        expected: ON_TOPIC_WORDS[last.topic],
      },
    });
  };
  for (const [, templates] of byTopic) {
    for (const t of templates) {
      for (const text of distinctRenderings(PER_TEMPLATE[split], () => prompt(t))) {
        push([{ topic: t.topic, template: t.id, text }]);
      }
    }
  }
  for (let n = 0; n < MULTI_TURN[split]; n++) {
    const topics: SmalltalkTopic[] = [pick(OPENERS, rng)];
    if (rng.uniform() < 0.5) topics.push(pick(MIDDLES, rng));
    let closer = pick(CLOSERS, rng);
    if (closer === topics[topics.length - 1]) closer = "goodbye";
    topics.push(closer);
    push(
      topics.map((topic) => {
        const t = pick(byTopic.get(topic)!, rng);
        return { topic, template: t.id, text: prompt(t) };
      }),
    );
  }
  return out;
}

/** On topic: non-empty, not a loop, and contains one of the topic's expected words. */
export function scoreSmalltalk(example: TaskExample, reply: string): Score {
  const topic = example.meta.topic as SmalltalkTopic;
  const expected = (example.meta.expected as string[] | undefined) ?? ON_TOPIC_WORDS[topic] ?? [];
  if (reply.trim().length === 0) return { correct: false, reward: 0, reason: "empty reply" };
  if (isRepetitionLoop(reply)) return { correct: false, reward: 0, reason: "repetition loop" };
  const words = normalizeWords(reply);
  const text = ` ${words.join(" ")} `;
  const hit = expected.find((w) => text.includes(` ${normalizeWords(w).join(" ")} `));
  if (!hit) {
    return {
      correct: false,
      reward: 0,
      reason: `off topic for ${topic}: none of ${expected.join("/")}`,
    };
  }
  return { correct: true, reward: 1, reason: `on topic for ${topic} ("${hit}")` };
}

export const smalltalk: Task = {
  name: "smalltalk",
  description: "greetings, thanks, apologies, goodbyes and what-can-you-do, in one to three turns",
  examples(split, ctx) {
    if (!SPLITS.includes(split)) throw new UserError(`unknown split "${split}"`);
    return generate(split, ctx);
  },
  score: scoreSmalltalk,
};
