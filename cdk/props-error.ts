import { MailroomError } from '../lib/kernel/index.ts';

/**
 * Thrown at synth time when a Mailroom construct is given props it cannot build: the message lists every
 * problem found, one per line, so a user fixes them all in one pass instead of one per `cdk synth`.
 */
export class MailroomPropsError extends MailroomError {
  override readonly name = 'MailroomPropsError';
  /** Each problem on its own, in the order found. */
  readonly problems: readonly string[];

  constructor(construct: string, problems: readonly string[], options?: ErrorOptions) {
    const list = problems.map((p) => `  - ${p}`).join('\n');
    super(
      `${construct}: invalid props (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${list}`,
      { retryable: false, cause: options?.cause },
    );
    this.problems = [...problems];
  }
}

/** Collects problems while props are checked, then throws them all at once. */
export class PropsProblems {
  readonly #construct: string;
  readonly #problems: string[] = [];

  constructor(construct: string) {
    this.#construct = construct;
  }

  /** Records `problem` unless `ok` holds. */
  check(ok: boolean, problem: string): void {
    if (!ok) this.#problems.push(problem);
  }

  add(problem: string): void {
    this.#problems.push(problem);
  }

  /** Throws a {@link MailroomPropsError} listing every recorded problem; does nothing when there are none. */
  throwIfAny(): void {
    if (this.#problems.length > 0) throw new MailroomPropsError(this.#construct, this.#problems);
  }
}
