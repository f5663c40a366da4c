/**
 * A finite state machine over a union of `{ status }` objects. The allowed
 * transitions are written down once, as a table from each status to the statuses
 * it may move to; any other move throws, so a bug shows up where it happens
 * instead of as a UI that lies.
 */
export type TransitionTable<S extends { status: string }> = {
  [K in S['status']]: ReadonlyArray<S['status']>;
};

export class InvalidTransitionError extends Error {
  constructor(machine: string, from: string, to: string) {
    super(`${machine}: the transition from '${from}' to '${to}' is not allowed`);
    this.name = 'InvalidTransitionError';
  }
}

export class StateMachine<S extends { status: string }> {
  #state: S;
  readonly #listeners = new Set<(state: S, previous: S) => void>();

  constructor(
    readonly name: string,
    initial: S,
    private readonly table: TransitionTable<S>,
  ) {
    this.#state = initial;
  }

  get state(): S {
    return this.#state;
  }

  /** Tells whether the machine may move to `status` from where it is now. */
  can(status: S['status']): boolean {
    const allowed: ReadonlyArray<string> = this.table[this.#state.status as S['status']];
    return allowed.includes(status);
  }

  /**
   * Moves to `next`. A move to the same status replaces the state's data (for
   * example a new retry time) and notifies listeners again.
   */
  transition(next: S): void {
    const previous = this.#state;

    if (next.status !== previous.status && !this.can(next.status)) {
      throw new InvalidTransitionError(this.name, previous.status, next.status);
    }

    this.#state = next;
    for (const listener of this.#listeners) listener(next, previous);
  }

  subscribe(listener: (state: S, previous: S) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
