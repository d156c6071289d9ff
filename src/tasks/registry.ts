/**
 * The task registry: every task by name. A new capability is a new file in this folder plus
 * one line in `TASKS`.
 */
import { UserError } from "../util/errors.js";
import { arithmetic } from "./arithmetic.js";
import { identity } from "./identity.js";
import { knowledgeQa } from "./knowledge-qa.js";
import { letters } from "./letters.js";
import { lookup } from "./lookup.js";
import { smalltalk } from "./smalltalk.js";
import { spelling } from "./spelling.js";
import type { Task } from "./task.js";

export const TASKS: readonly Task[] = [
  identity,
  smalltalk,
  knowledgeQa,
  spelling,
  arithmetic,
  letters,
  lookup,
];

export const TASK_NAMES: readonly string[] = TASKS.map((t) => t.name);

/** The task called `name`; a UserError listing the known names otherwise. */
export function taskByName(name: string): Task {
  const task = TASKS.find((t) => t.name === name);
  if (!task) {
    throw new UserError(`unknown task "${name}"`, `known tasks: ${TASK_NAMES.join(", ")}`);
  }
  return task;
}
