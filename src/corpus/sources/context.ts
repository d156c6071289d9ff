/** What a source can tell the build besides documents: inputs it skipped, and why. */
export interface SourceContext {
  /** Counts one skipped input (a file, record or line) with a short reason and where it was. */
  skip(reason: string, where: string): void;
}
