/**
 * Timing rules of the registration: how fast reconnects may follow each other
 * and when the line leaves the backup proxy. Plain functions and one small
 * class, so they are tested without sip.js.
 */

/** First reconnect delay after a failure; it doubles per failure up to the maximum, with jitter. */
export const RECONNECT_BASE_MS = 500;
export const RECONNECT_MAX_MS = 30_000;

/**
 * Upper bound on WebSocket connection attempts in any 60 s, whatever causes
 * them: backoff, resume from sleep, network changes or proxy switches. Backoff
 * alone stays below it (about 7 attempts in the first minute, then 2 to 4 per
 * minute); the bound stops a flapping network from causing a reconnect storm.
 */
export const MAX_CONNECTION_ATTEMPTS = { attempts: 10, windowMs: 60_000 } as const;

/** Largest random delay added to `switchBackInterval`, as a share of it. */
const SWITCH_BACK_JITTER_SHARE = 0.2;
const SWITCH_BACK_JITTER_MAX_MS = 300_000;

/** Counts attempts in a sliding window and returns when the next one may start. */
export class AttemptWindow {
  #times: number[] = [];

  constructor(
    private readonly attempts: number,
    private readonly windowMs: number,
  ) {}

  /** Returns `now` when an attempt may start now, else the first time one may. */
  nextSlot(now: number): number {
    this.#prune(now);
    if (this.#times.length < this.attempts) return now;

    return this.#times[this.#times.length - this.attempts]! + this.windowMs;
  }

  record(now: number): void {
    this.#prune(now);
    this.#times.push(now);
  }

  #prune(now: number): void {
    this.#times = this.#times.filter((time) => time > now - this.windowMs);
  }
}

/**
 * Returns the delay before leaving the backup proxy: `switchBackInterval`
 * seconds plus up to 20 % of it (at most 5 minutes) at random, so clients that
 * failed over together do not return together.
 */
export function switchBackDelayMs(switchBackIntervalS: number, random: () => number): number {
  const intervalMs = Math.max(0, switchBackIntervalS) * 1000;
  const jitterMaxMs = Math.min(intervalMs * SWITCH_BACK_JITTER_SHARE, SWITCH_BACK_JITTER_MAX_MS);
  // setTimeout fires at once past 2^31 - 1 ms, so longer intervals are capped there (about 24.8 days).
  return Math.min(Math.round(intervalMs + random() * jitterMaxMs), 2_147_483_647);
}

/** SIP statuses of a REGISTER answer that mean the credentials were not accepted. */
export function isCredentialRejection(statusCode: number): boolean {
  return statusCode === 401 || statusCode === 403 || statusCode === 407;
}
