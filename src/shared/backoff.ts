/**
 * Exponential backoff with jitter for retries of reconnects, REGISTERs and
 * provisioning requests. The n-th delay is drawn from [base·2ⁿ / 2, base·2ⁿ],
 * capped at `maxMs`, so many clients that lost the same server do not come
 * back in lockstep.
 */
export class Backoff {
  #attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  get attempt(): number {
    return this.#attempt;
  }

  nextDelayMs(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.#attempt);
    this.#attempt += 1;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
