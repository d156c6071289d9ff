/**
 * Task "arithmetic" — labelling instructions.
 *
 * The user poses a word problem (shopping, ages, distances, sharing, wages, …) with one exact
 * whole-number answer, worked out in 1 to 3 operations on numbers of 1 to 3 digits. The user
 * message may carry an instruction that says how to answer:
 * - "answer with just the number" and the like → the reply is the number, in digits, first;
 *   optionally followed by one short sentence restating it ("9. The apples cost 9 dollars.").
 * - "think step by step" and the like → one line per operation, in words with the computation
 *   and its value written out ("2 oranges cost 2 * 2 = 4 dollars."), then the final line
 *   "The answer is N."
 * - "use code" and the like → the same lines, but each computation is a code call whose output
 *   the line then uses ("2 oranges cost <code>2 * 2</code><output>4</output> dollars."), then
 *   "The answer is N."
 * - no instruction → as "use code": the reliable way.
 * Operators are written + - * /, every intermediate value is a whole number, no unit in the
 * final line.
 *
 * Splits are by scenario (the story and its question): 2 scenarios are test, 2 val, the other 8
 * train, so test problems and their phrasings were never trained on. The instruction phrasings
 * are shared by all splits (the test measures the arithmetic, not whether an unseen way of
 * saying "use code" is understood).
 */
import { CHAT_TOKENS } from "../chat/conversation.js";
import type { Rng } from "../tensor/rng.js";
import { UserError } from "../util/errors.js";
import { cmp, hash32, pick, readNumberAnswer, rngFor, SPLITS } from "./common.js";
import type { Score, Split, Task, TaskContext, TaskExample } from "./task.js";

/** How the user asks to be answered; "none" is a problem with no instruction. */
export const ARITHMETIC_STYLES = ["answer", "steps", "code", "none"] as const;
export type ArithmeticStyle = (typeof ARITHMETIC_STYLES)[number];

/** The form of a reference reply: "none" is answered in the code form. */
export type ArithmeticForm = Exclude<ArithmeticStyle, "none">;

export function arithmeticForm(style: ArithmeticStyle): ArithmeticForm {
  return style === "none" ? "code" : style;
}

/** Operations in a problem, and digits of the numbers drawn for it (the difficulty knob). */
export const ARITHMETIC_STEPS = [1, 2, 3] as const;
export const ARITHMETIC_DIGITS = [1, 2, 3] as const;

export const ARITHMETIC_INSTRUCTIONS: Record<ArithmeticForm, readonly string[]> = {
  answer: [
    "Answer with just the number.",
    "Just give me the number.",
    "Reply with only the number.",
    "Only the final number, please.",
    "No working, just the answer.",
    "Give only the answer.",
  ],
  steps: [
    "Think step by step.",
    "Show your working.",
    "Work it out step by step.",
    "Explain each step.",
    "Solve it step by step.",
    "Show the steps.",
  ],
  code: [
    "Use code.",
    "Use the code tool.",
    "Work it out with code.",
    "Calculate it with code.",
    "Use code for the arithmetic.",
    "Compute it with JavaScript.",
  ],
};

/** The style mix of the train split (shares). */
export const ARITHMETIC_TRAIN_MIX: Readonly<Record<ArithmeticStyle, number>> = {
  answer: 0.2,
  steps: 0.3,
  code: 0.3,
  none: 0.2,
};

// ---------------------------------------------------------------------------------------------
// Problems

type Op = "+" | "-" | "*" | "/";

/** One operation: "{label} {a} {op} {b} = {value}{unit}." */
export interface ArithmeticStep {
  label: string;
  a: number;
  op: Op;
  b: number;
  value: number;
  unit: string;
}

export interface ArithmeticProblem {
  /** The problem statement with its question. */
  text: string;
  steps: ArithmeticStep[];
}

function step(label: string, a: number, op: Op, b: number, unit = ""): ArithmeticStep {
  const value = op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : a / b;
  if (!Number.isInteger(value) || value < 0) throw new Error(`bad step ${a} ${op} ${b}`);
  return { label, a, op, b, value, unit };
}

function problem(statements: string[], question: string, steps: ArithmeticStep[]) {
  return { text: `${statements.join(" ")} ${question}`, steps };
}

/** A number of `digits` digits (one digit: 2–9, so no problem multiplies by 1 or 0). */
function num(rng: Rng, digits: number): number {
  if (digits <= 1) return 2 + rng.int(8);
  const lo = 10 ** (digits - 1);
  return lo + rng.int(9 * lo);
}

function pickTwo<T>(items: readonly T[], rng: Rng): [T, T] {
  const a = rng.int(items.length);
  const b = (a + 1 + rng.int(items.length - 1)) % items.length;
  return [items[a]!, items[b]!];
}

const NAMES = [
  "Emily",
  "Omar",
  "Priya",
  "Lucas",
  "Mei",
  "Noah",
  "Sofia",
  "Ahmed",
  "Hana",
  "Jack",
  "Lena",
  "Diego",
  "Aisha",
  "Tom",
  "Yuki",
  "Ben",
];
const GOODS: readonly [string, string][] = [
  ["apple", "apples"],
  ["orange", "oranges"],
  ["pen", "pens"],
  ["notebook", "notebooks"],
  ["cup", "cups"],
  ["ticket", "tickets"],
  ["book", "books"],
  ["candle", "candles"],
  ["sandwich", "sandwiches"],
  ["toy car", "toy cars"],
];
const THINGS = ["a hat", "a bag", "a lamp", "a scarf", "a game", "a clock", "a plant"];
const OLD_THINGS = [
  "bridge",
  "church",
  "tower",
  "castle",
  "oak tree",
  "library",
  "school",
  "windmill",
  "lighthouse",
  "museum",
];
const VEHICLES = ["train", "bus", "truck", "boat", "car", "van"];
const SHARED = ["marbles", "stickers", "cards", "stamps", "shells", "beads"];
const STOCK = ["bottles", "pencils", "light bulbs", "soaps", "jars", "batteries"];
const CROPS = ["apples", "pears", "plums", "potatoes", "cherries", "carrots"];

interface Scenario {
  id: string;
  /** A problem of `steps` operations on `digits`-digit numbers, or null to draw again. */
  build(rng: Rng, digits: number, steps: number): ArithmeticProblem | null;
}

const SCENARIOS: readonly Scenario[] = [
  {
    id: "shopping",
    build(rng, d, k) {
      const who = pick(NAMES, rng);
      const [item, items] = pick(GOODS, rng);
      const a = num(rng, d);
      const p = num(rng, d);
      const s1 = step(`${a} ${items} cost`, a, "*", p, " dollars");
      const text = [`${who} buys ${a} ${items}. Each ${item} costs $${p}.`];
      if (k === 1) return problem(text, `How much does ${who} pay, in dollars?`, [s1]);
      const q = num(rng, d);
      text.push(`${who} also buys ${pick(THINGS, rng)} for $${q}.`);
      const s2 = step(`in total ${who} pays`, s1.value, "+", q, " dollars");
      if (k === 2) return problem(text, `How much does ${who} pay in total, in dollars?`, [s1, s2]);
      const paid = s2.value + num(rng, d);
      text.push(`${who} pays with $${paid}.`);
      const s3 = step("the change is", paid, "-", s2.value, " dollars");
      return problem(text, `How much change does ${who} get, in dollars?`, [s1, s2, s3]);
    },
  },
  {
    id: "missing-price",
    build(rng, d, k) {
      const who = pick(NAMES, rng);
      const [[item1, items1], [item2, items2]] = pickTwo(GOODS, rng);
      const a = num(rng, d);
      if (k === 1) {
        const c = num(rng, d);
        const q = num(rng, d);
        const thing = pick(THINGS, rng);
        return problem(
          [
            `${who} buys ${a} ${items1} and ${thing}.`,
            `${thing.replace(/^a /, "The ")} costs $${q}. The total is $${c + q}.`,
          ],
          `How much do the ${items1} cost in all, in dollars?`,
          [step(`the ${items1} cost`, c + q, "-", q, " dollars")],
        );
      }
      const b = num(rng, d);
      const q = num(rng, d);
      const c = k === 2 ? num(rng, d) : a * num(rng, d);
      const total = c + b * q;
      const text = [
        `${who} buys ${a} ${items1} and ${b} ${items2}.`,
        `Each ${item2} costs $${q}. The total cost is $${total}.`,
      ];
      const s1 = step(`${b} ${items2} cost`, b, "*", q, " dollars");
      const s2 = step(`the ${items1} cost`, total, "-", s1.value, " dollars");
      if (k === 2) return problem(text, `What is the cost of the ${items1}, in dollars?`, [s1, s2]);
      const s3 = step(`one ${item1} costs`, c, "/", a, " dollars");
      return problem(text, `How much does one ${item1} cost, in dollars?`, [s1, s2, s3]);
    },
  },
  {
    id: "ages",
    build(rng, d, k) {
      const t1 = pick(OLD_THINGS, rng);
      const [t2, t3] = pickTwo(
        OLD_THINGS.filter((t) => t !== t1),
        rng,
      );
      const x = num(rng, d);
      const y = num(rng, d);
      const text = [
        `The ${t1} is ${x} years old.`,
        `The ${t2} is ${y} years older than the ${t1}.`,
      ];
      const s1 = step(`the ${t2} is`, x, "+", y, " years old");
      if (k === 1) return problem(text, `How old is the ${t2}, in years?`, [s1]);
      const z = num(rng, d);
      if (z >= s1.value) return null;
      text.push(`The ${t3} is ${z} years younger than the ${t2}.`);
      const s2 = step(`the ${t3} is`, s1.value, "-", z, " years old");
      if (k === 2) return problem(text, `How old is the ${t3}, in years?`, [s1, s2]);
      const w = num(rng, d);
      const s3 = step(`in ${w} years the ${t3} will be`, s2.value, "+", w, " years old");
      return problem(text, `How old will the ${t3} be in ${w} years?`, [s1, s2, s3]);
    },
  },
  {
    id: "distance",
    build(rng, d, k) {
      const v = pick(VEHICLES, rng);
      const s = num(rng, d);
      const h = num(rng, d);
      const text = [`A ${v} travels at ${s} km an hour for ${h} hours.`];
      const s1 = step(`in ${h} hours it travels`, h, "*", s, " km");
      if (k === 1) return problem(text, "How many km does it travel?", [s1]);
      const e = num(rng, d);
      text.push(`Then it travels ${e} km more.`);
      const s2 = step("in total it travels", s1.value, "+", e, " km");
      if (k === 2) return problem(text, "How many km does it travel in total?", [s1, s2]);
      const trip = s2.value + num(rng, d);
      text.push(`The whole trip is ${trip} km.`);
      const s3 = step("the distance left is", trip, "-", s2.value, " km");
      return problem(text, "How many km of the trip are left?", [s1, s2, s3]);
    },
  },
  {
    id: "sharing",
    build(rng, d, k) {
      const who = pick(NAMES, rng);
      const items = pick(SHARED, rng);
      const friends = num(rng, d);
      const e = k === 3 ? num(rng, d) : 0;
      const each = e + num(rng, d);
      if (k === 1) {
        const total = friends * each;
        return problem(
          [`${who} has ${total} ${items} and shares them equally among ${friends} friends.`],
          `How many ${items} does each friend get?`,
          [step("each friend gets", total, "/", friends, ` ${items}`)],
        );
      }
      const kept = num(rng, d);
      const total = friends * each + kept;
      const text = [
        `${who} has ${total} ${items}, keeps ${kept} and shares the rest equally among ${friends} friends.`,
      ];
      const s1 = step("the rest is", total, "-", kept, ` ${items}`);
      const s2 = step("each friend gets", s1.value, "/", friends, ` ${items}`);
      if (k === 2) return problem(text, `How many ${items} does each friend get?`, [s1, s2]);
      text.push(`Each friend then gives ${e} of them away.`);
      const s3 = step("each friend has", each, "-", e, ` ${items} left`);
      return problem(text, `How many ${items} does each friend have left?`, [s1, s2, s3]);
    },
  },
  {
    id: "wages",
    build(rng, d, k) {
      const who = pick(NAMES, rng);
      const rate = num(rng, d);
      const h = num(rng, d);
      const text = [`${who} earns $${rate} an hour and works ${h} hours.`];
      const s1 = step(`for ${h} hours ${who} earns`, h, "*", rate, " dollars");
      if (k === 1) return problem(text, `How many dollars does ${who} earn?`, [s1]);
      const bonus = num(rng, d);
      text.push(`${who} also gets a bonus of $${bonus}.`);
      const s2 = step(`with the bonus ${who} gets`, s1.value, "+", bonus, " dollars");
      if (k === 2) return problem(text, `How many dollars does ${who} get in total?`, [s1, s2]);
      const spent = num(rng, d);
      if (spent >= s2.value) return null;
      text.push(`Then ${who} spends $${spent} on ${pick(THINGS, rng)}.`);
      const s3 = step(`after spending, ${who} has`, s2.value, "-", spent, " dollars");
      return problem(text, `How many dollars does ${who} have left?`, [s1, s2, s3]);
    },
  },
  {
    id: "stock",
    build(rng, d, k) {
      const items = pick(STOCK, rng);
      const a = num(rng, d);
      const m = num(rng, d);
      const text = [`A shop has ${a} boxes with ${m} ${items} in each box.`];
      const s1 = step("the shop has", a, "*", m, ` ${items}`);
      if (k === 1) return problem(text, `How many ${items} does the shop have?`, [s1]);
      const sold = num(rng, d);
      if (sold >= s1.value) return null;
      text.push(`It sells ${sold} ${items}.`);
      const s2 = step("after selling, the shop has", s1.value, "-", sold, ` ${items}`);
      if (k === 2) return problem(text, `How many ${items} are left?`, [s1, s2]);
      const more = num(rng, d);
      text.push(`Then a delivery brings ${more} more ${items}.`);
      const s3 = step("after the delivery, the shop has", s2.value, "+", more, ` ${items}`);
      return problem(text, `How many ${items} does the shop have now?`, [s1, s2, s3]);
    },
  },
  {
    id: "baking",
    build(rng, d, k) {
      const who = pick(NAMES, rng);
      const cakes = num(rng, d);
      const slices = num(rng, d);
      const text = [`${who} bakes ${cakes} cakes and cuts each cake into ${slices} slices.`];
      const s1 = step("there are", cakes, "*", slices, " slices");
      if (k === 1) return problem(text, "How many slices are there?", [s1]);
      if (k === 2) {
        const eaten = num(rng, d);
        if (eaten >= s1.value) return null;
        text.push(`The guests eat ${eaten} slices.`);
        const s2 = step("after the guests eat, there are", s1.value, "-", eaten, " slices");
        return problem(text, "How many slices are left?", [s1, s2]);
      }
      const plates = num(rng, d);
      if (plates > s1.value - 1) return null;
      const perPlate = 1 + rng.int(Math.floor((s1.value - 1) / plates));
      const eaten = s1.value - plates * perPlate;
      text.push(
        `The guests eat ${eaten} slices, and ${who} puts the rest equally on ${plates} plates.`,
      );
      const s2 = step("after the guests eat, there are", s1.value, "-", eaten, " slices");
      const s3 = step("each plate gets", s2.value, "/", plates, " slices");
      return problem(text, "How many slices go on each plate?", [s1, s2, s3]);
    },
  },
  {
    id: "chairs",
    build(rng, d, k) {
      const rows = num(rng, d);
      const per = num(rng, d);
      const text = [`A hall has ${rows} rows of ${per} chairs.`];
      const s1 = step("there are", rows, "*", per, " chairs");
      if (k === 1) return problem(text, "How many chairs are in the hall?", [s1]);
      const taken = num(rng, d);
      if (taken >= s1.value) return null;
      text.push(`${taken} of the chairs are taken.`);
      const s2 = step("the number of free chairs is", s1.value, "-", taken);
      if (k === 2) return problem(text, "How many chairs are free?", [s1, s2]);
      const more = num(rng, d);
      text.push(`Then ${more} more chairs are brought in.`);
      const s3 = step("now the number of free chairs is", s2.value, "+", more);
      return problem(text, "How many chairs are free now?", [s1, s2, s3]);
    },
  },
  {
    id: "passengers",
    build(rng, d, k) {
      const start = num(rng, d);
      const off = num(rng, d);
      if (off >= start) return null;
      const question = "How many passengers are on the train now?";
      const s1 = step(`after ${off} get off, there are`, start, "-", off, " passengers");
      if (k === 1) {
        return problem(
          [`A train has ${start} passengers. At the first stop, ${off} people get off.`],
          question,
          [s1],
        );
      }
      const on = num(rng, d);
      const text = [
        `A train has ${start} passengers. At the first stop, ${off} people get off and ${on} get on.`,
      ];
      const s2 = step(`after ${on} get on, there are`, s1.value, "+", on, " passengers");
      if (k === 2) return problem(text, question, [s1, s2]);
      const off2 = num(rng, d);
      if (off2 >= s2.value) return null;
      text.push(`At the second stop, ${off2} people get off.`);
      const s3 = step("after the second stop, there are", s2.value, "-", off2, " passengers");
      return problem(text, question, [s1, s2, s3]);
    },
  },
  {
    id: "reading",
    build(rng, d, k) {
      const who = pick(NAMES, rng);
      const pages = num(rng, d);
      const days = num(rng, d);
      const text = [`${who} reads ${pages} pages a day for ${days} days.`];
      const s1 = step(`in ${days} days ${who} reads`, days, "*", pages, " pages");
      if (k === 1) return problem(text, `How many pages does ${who} read?`, [s1]);
      const book = s1.value + num(rng, d);
      text.push(`The book has ${book} pages.`);
      const s2 = step("the number of pages left is", book, "-", s1.value);
      if (k === 2) return problem(text, "How many pages are left to read?", [s1, s2]);
      const more = num(rng, d);
      if (more >= s2.value) return null;
      text.push(`The next day ${who} reads ${more} more pages.`);
      const s3 = step("after that, the number of pages left is", s2.value, "-", more);
      return problem(text, "How many pages are left now?", [s1, s2, s3]);
    },
  },
  {
    id: "harvest",
    build(rng, d, k) {
      const crop = pick(CROPS, rng);
      const monday = num(rng, d);
      const tuesday = num(rng, d);
      const text = [
        `A farmer picks ${monday} kg of ${crop} on Monday and ${tuesday} kg on Tuesday.`,
      ];
      const s1 = step("in all the farmer picks", monday, "+", tuesday, " kg");
      if (k === 1)
        return problem(text, `How many kg of ${crop} does the farmer pick in all?`, [s1]);
      if (k === 2) {
        const sold = num(rng, d);
        if (sold >= s1.value) return null;
        text.push(`The farmer sells ${sold} kg.`);
        const s2 = step("after selling, the farmer has", s1.value, "-", sold, " kg");
        return problem(text, `How many kg of ${crop} are left?`, [s1, s2]);
      }
      const bag = num(rng, d);
      if (bag > s1.value - 1) return null;
      const rest = bag * (1 + rng.int(Math.floor((s1.value - 1) / bag)));
      const sold = s1.value - rest;
      text.push(`The farmer sells ${sold} kg and packs the rest into bags of ${bag} kg each.`);
      const s2 = step("after selling, the farmer has", s1.value, "-", sold, " kg");
      const s3 = step("the number of bags is", rest, "/", bag);
      return problem(text, "How many bags does the farmer fill?", [s1, s2, s3]);
    },
  },
];

/** The scenario ids of a split: ordered by hash, 2 test, 2 val, the rest train. */
export function arithmeticScenarios(split: Split): string[] {
  const ids = SCENARIOS.map((s) => s.id).sort(
    (a, b) => hash32(`arithmetic:${a}`) - hash32(`arithmetic:${b}`) || cmp(a, b),
  );
  const range = { test: [0, 2], val: [2, 4], train: [4, ids.length] }[split];
  return ids.slice(range[0], range[1]);
}

// ---------------------------------------------------------------------------------------------
// Replies

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function expression(s: ArithmeticStep): string {
  return `${s.a} ${s.op} ${s.b}`;
}

/** A code call and the output the engine injects after it, as assistant-content text. */
export function codeCall(code: string, output: string): string {
  return `${CHAT_TOKENS.pythonStart}${code}${CHAT_TOKENS.pythonEnd}${CHAT_TOKENS.outputStart}${output}${CHAT_TOKENS.outputEnd}`;
}

/** The final line of the steps and code forms. */
export function finalAnswerLine(answer: number | string): string {
  return `The answer is ${answer}.`;
}

/** The reference reply to a problem in a form; `withSentence` adds the answer-first sentence. */
export function arithmeticReply(
  p: ArithmeticProblem,
  form: ArithmeticForm,
  withSentence = false,
): string {
  const last = p.steps[p.steps.length - 1]!;
  if (form === "answer") {
    return withSentence
      ? `${last.value}. ${cap(last.label)} ${last.value}${last.unit}.`
      : String(last.value);
  }
  const lines = p.steps.map((s) =>
    form === "steps"
      ? `${cap(s.label)} ${expression(s)} = ${s.value}${s.unit}.`
      : `${cap(s.label)} ${codeCall(expression(s), String(s.value))}${s.unit}.`,
  );
  return [...lines, finalAnswerLine(last.value)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Cells of the "tokens to think" table

export interface ArithmeticCell {
  style: ArithmeticStyle;
  steps: number;
  digits: number;
  /** "code/2-steps/3-digits". */
  key: string;
}

function cell(style: ArithmeticStyle, steps: number, digits: number): ArithmeticCell {
  return { style, steps, digits, key: `${style}/${steps}-steps/${digits}-digits` };
}

/** Every style × steps × digits cell, in table order (each holds `testPerCell` test examples). */
export function arithmeticCells(): ArithmeticCell[] {
  return ARITHMETIC_STYLES.flatMap((style) =>
    ARITHMETIC_STEPS.flatMap((steps) => ARITHMETIC_DIGITS.map((d) => cell(style, steps, d))),
  );
}

export function arithmeticCellOf(example: TaskExample): ArithmeticCell {
  const m = example.meta;
  return cell(m.style as ArithmeticStyle, m.steps as number, m.digits as number);
}

// ---------------------------------------------------------------------------------------------
// Generation

export interface ArithmeticOptions {
  /** Train examples (mixed styles and difficulties). */
  train?: number;
  /** Val and test examples per style × steps × digits cell. */
  valPerCell?: number;
  testPerCell?: number;
}

const DEFAULTS = { train: 4000, valPerCell: 5, testPerCell: 30 };

function drawStyle(rng: Rng): ArithmeticStyle {
  let u = rng.uniform();
  for (const s of ARITHMETIC_STYLES) {
    u -= ARITHMETIC_TRAIN_MIX[s];
    if (u < 0) return s;
  }
  return "none";
}

function userMessage(text: string, style: ArithmeticStyle, rng: Rng): string {
  if (style === "none") return text;
  const instruction = pick(ARITHMETIC_INSTRUCTIONS[style], rng);
  return rng.uniform() < 0.4 ? `${instruction} ${text}` : `${text} ${instruction}`;
}

function example(
  split: Split,
  n: number,
  c: ArithmeticCell,
  scenarios: readonly Scenario[],
  first: number,
  rng: Rng,
  seen: Set<string>,
): TaskExample {
  for (let attempt = 0; attempt < 200; attempt++) {
    const scenario = scenarios[(first + attempt) % scenarios.length]!;
    const p = scenario.build(rng, c.digits, c.steps);
    if (!p) continue;
    const user = userMessage(p.text, c.style, rng);
    if (seen.has(user)) continue;
    seen.add(user);
    const form = arithmeticForm(c.style);
    const answer = p.steps[p.steps.length - 1]!.value;
    return {
      id: `arithmetic/${split}/${n}`,
      conversation: {
        messages: [
          { role: "user", content: user },
          { role: "assistant", content: arithmeticReply(p, form, rng.uniform() < 0.5) },
        ],
      },
      meta: {
        style: c.style,
        form,
        steps: c.steps,
        digits: c.digits,
        answer,
        scenario: scenario.id,
        cell: c.key,
      },
    };
  }
  throw new Error(`arithmetic: no new problem for ${c.key}`);
}

function generate(split: Split, ctx: TaskContext, o: typeof DEFAULTS): TaskExample[] {
  const ids = new Set(arithmeticScenarios(split));
  const scenarios = SCENARIOS.filter((s) => ids.has(s.id));
  const rng = rngFor(ctx.seed, "arithmetic", split);
  const seen = new Set<string>();
  const out: TaskExample[] = [];
  if (split === "train") {
    for (let n = 0; n < o.train; n++) {
      const c = cell(drawStyle(rng), 1 + rng.int(3), 1 + rng.int(3));
      out.push(example(split, n, c, scenarios, rng.int(scenarios.length), rng, seen));
    }
    return out;
  }
  const perCell = split === "test" ? o.testPerCell : o.valPerCell;
  for (const c of arithmeticCells()) {
    for (let i = 0; i < perCell; i++) {
      out.push(example(split, out.length, c, scenarios, i, rng, seen));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scoring

/**
 * Correct when the reply's answer is the exact number. Tool calls and their outputs are
 * ignored (only what the assistant itself says counts). Answer-first replies are read at their
 * first number; step-by-step and code replies at their final "The answer is N." form, or their
 * last number when that form is missing. Accepted: "9", "$9", "9 dollars", "9.0", "1,809",
 * "nine"; not accepted: a different number first in an answer-first reply.
 */
export function scoreArithmetic(example: TaskExample, reply: string): Score {
  const answer = example.meta.answer as number;
  const form = (example.meta.form as ArithmeticForm | undefined) ?? "code";
  const read = readNumberAnswer(reply, form === "answer" ? "first" : "final");
  const details = {
    how: read.how,
    usedCode: reply.includes(CHAT_TOKENS.pythonStart),
    finalForm: read.how === "final",
  };
  if (read.value === undefined) {
    return { correct: false, reward: 0, reason: "no number found", details };
  }
  if (read.value === answer) {
    return { correct: true, reward: 1, reason: `answer ${answer} (${read.how})`, details };
  }
  return {
    correct: false,
    reward: 0,
    reason: `${read.value} (${read.how}), not ${answer}`,
    details,
  };
}

export function arithmeticTask(opts: ArithmeticOptions = {}): Task {
  const o = { ...DEFAULTS, ...opts };
  return {
    name: "arithmetic",
    description:
      "word problems with exact answers, answered at once, step by step or with code calls (split by scenario)",
    examples(split, ctx) {
      if (!SPLITS.includes(split)) throw new UserError(`unknown split "${split}"`);
      return generate(split, ctx, o);
    },
    score: scoreArithmetic,
  };
}

export const arithmetic: Task = arithmeticTask();
