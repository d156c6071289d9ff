/**
 * Errors a person can act on. A `UserError` is printed as one line (plus an optional hint)
 * by the CLI, never as a stack trace; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  /** What the user can do next, printed after the message. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = "UserError";
    this.hint = hint;
  }
}

/** Formats any thrown value as the line(s) the CLI prints. */
export function formatError(err: unknown, debug = false): string {
  if (err instanceof UserError) {
    return `error: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ""}`;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === "object" && typeof e.code === "string" && e.syscall && !debug) {
    return `error: ${describeSystemError(e)}`;
  }
  if (err instanceof Error) return debug ? (err.stack ?? err.message) : `error: ${err.message}`;
  return `error: ${String(err)}`;
}

/** Turns ENOENT/ENOSPC/EACCES and friends into a sentence that names the path. */
export function describeSystemError(e: NodeJS.ErrnoException): string {
  const where = e.path ? ` ${e.path}` : "";
  switch (e.code) {
    case "ENOENT":
      return `no such file or directory:${where}`;
    case "EACCES":
    case "EPERM":
      return `permission denied:${where}`;
    case "ENOSPC":
      return `disk full while writing${where}; free some space and rerun (completed outputs are kept)`;
    case "EISDIR":
      return `expected a file but found a directory:${where}`;
    case "ENOTDIR":
      return `expected a directory but found a file:${where}`;
    default:
      return `${e.code} during ${e.syscall ?? "I/O"}${where}: ${e.message}`;
  }
}
