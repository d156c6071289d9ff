/** Argument parsers shared by the sub-commands: each names the option in its error. */
import { UserError } from "../util/errors.js";

/** Collects a repeatable option into an array. */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new UserError(`${name} must be a positive integer, got "${v}"`);
    return n;
  };
}

export function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new UserError(`${name} must be an integer ≥ 0, got "${v}"`);
    return n;
  };
}

/** A number in [lo, hi] (inclusive). */
export function numberIn(name: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < lo || n > hi) {
      throw new UserError(`${name} must be a number in [${lo}, ${hi}], got "${v}"`);
    }
    return n;
  };
}

/** A TCP port (1–65535; 0 asks the system for a free one). */
export function port(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new UserError(`${name} must be a port number from 1 to 65535, got "${v}"`);
    return n;
  };
}
