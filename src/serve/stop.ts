/**
 * Stop strings (`stop` in the API). The engine stops only on tokens, so the server watches each
 * row's text: at the first occurrence of any stop string the text is cut before it, the row is
 * cancelled, and the choice finishes with "stop". While streaming, text that could still become
 * a stop string (a suffix that is a prefix of one) is held back until the next token decides it,
 * so a client never sees part of a stop string. A stop string can span token boundaries.
 */
export class StopMatcher {
  readonly #stops: readonly string[];
  /** Text received but not released yet (at most the longest stop string's length − 1). */
  #held = "";
  /** Characters released so far (in the row's text). */
  released = 0;
  stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s.length > 0);
  }

  /** Adds generated text; returns the text that can be shown now. */
  push(text: string): string {
    if (this.stopped) return "";
    const buf = this.#held + text;
    let cut = -1;
    for (const s of this.#stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.#held = "";
      return this.#release(buf.slice(0, cut));
    }
    const hold = this.#holdLength(buf);
    this.#held = buf.slice(buf.length - hold);
    return this.#release(buf.slice(0, buf.length - hold));
  }

  /** The generation ended without a stop string: the held text is released. */
  flush(): string {
    const rest = this.#held;
    this.#held = "";
    return this.#release(rest);
  }

  #release(s: string): string {
    this.released += s.length;
    return s;
  }

  /** The longest suffix of `buf` that is a proper prefix of some stop string. */
  #holdLength(buf: string): number {
    let best = 0;
    for (const s of this.#stops) {
      for (let n = Math.min(s.length - 1, buf.length); n > best; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
