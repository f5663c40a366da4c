import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import { Backoff } from '../shared/backoff';
import type { ProvisioningRequestReason } from '../shared/ipc';
import type { Logger } from './logger';
import { InvalidPlatformResponseError, PlatformError, PlatformNetworkError } from './platform-client';
import { ProvisioningError } from './provisioning-errors';
import { writeFileAtomic } from './settings';

/** Source of a sip-provision request. */

/** Maximum delay of setTimeout: 2^31 - 1 ms. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;
export type ProvisioningTrigger = 'start' | 'sign-in' | 'user' | 'polling' | 'retry' | ProvisioningRequestReason;

/** When a failed request may be sent again without the user's help. */
export type RetryHint =
  /** The platform set the wait: `Retry-After` of a 429. */
  | { kind: 'after'; seconds: number }
  /** A server error, a network failure or an unusable response: exponential backoff. */
  | { kind: 'backoff' }
  /** The user or an administrator must change something first. */
  | { kind: 'none' };

/** The outcome of one provisioning request, as far as scheduling is concerned. */
export type ProvisioningAttemptResult =
  | { outcome: 'succeeded'; pollingIntervalSeconds: number }
  | { outcome: 'failed'; retry: RetryHint }
  /** The session ended or changed while the request ran; nothing follows from it. */
  | { outcome: 'abandoned' };

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Send times (epoch ms) of recent sip-provision requests, kept across restarts. */
export interface ProvisioningRequestLog {
  load(): Promise<number[]>;
  save(sendTimes: number[]): Promise<void>;
}

export interface RateLimit {
  requests: number;
  windowMs: number;
}

/**
 * sip-provision is in RingCentral's Heavy rate-limit group: 10 requests per 60 s
 * per app and user. The platform counts requests when they arrive, so one request
 * is kept in reserve for a request sent at the end of one window that arrives in
 * the next.
 */
export const SIP_PROVISION_RATE_LIMIT: RateLimit = { requests: 9, windowMs: 60_000 };

/** First delay after a server or network failure; it doubles up to the maximum. */
export const PROVISIONING_BACKOFF_BASE_MS = 5_000;
export const PROVISIONING_BACKOFF_MAX_MS = 300_000;
/** Wait after a 429 that carries no `Retry-After`: one rate-limit window. */
const DEFAULT_RETRY_AFTER_S = 60;
/** A `pollingInterval` below this is raised to it, so a bad value cannot eat the request budget. */
export const MIN_POLLING_INTERVAL_S = 60;
/**
 * Minimum time between two requests caused by rejected SIP credentials. Each new
 * profile gets one REGISTER; a platform that keeps handing out passwords the
 * registrar rejects would otherwise cause a loop of provisioning and REGISTERs.
 */
export const SIP_AUTH_FAILURE_MIN_INTERVAL_MS = 300_000;

export interface ProvisioningSchedulerOptions {
  /** Sends one sip-provision request and applies its result; must not throw. */
  attempt: (trigger: ProvisioningTrigger) => Promise<ProvisioningAttemptResult>;
  /** Called with the time of the next automatic attempt after a failure, or null when there is none. */
  onRetryScheduled: (retryAt: number | null) => void;
  now: () => number;
  logger: Logger;
  timers?: Timers;
  random?: () => number;
  requestLog?: ProvisioningRequestLog;
  rateLimit?: RateLimit;
}

interface PendingAttempt {
  dueAt: number;
  trigger: ProvisioningTrigger;
  timer: unknown;
  waiters: Array<() => void>;
}

/**
 * Decides when sip-provision requests go out: at start, after `pollingInterval`,
 * on request (user, check-sync, SIP authentication failure) and after failures.
 *
 * Rules, in order of precedence:
 * - No more than `rateLimit.requests` requests in any `rateLimit.windowMs`,
 *   whatever triggered them, counted across restarts when a request log is given.
 * - After a 429, nothing is sent before its `Retry-After` has passed.
 * - After a server error, a network failure or an unusable response, the next
 *   attempt follows exponential backoff with jitter (5 s doubling to 5 min).
 * - After an error that needs the user or an administrator, nothing is retried
 *   until a new request comes in.
 * - Rejected SIP credentials cause at most one request per 5 minutes.
 * - Requests that arrive while one is running share its result.
 */
export class ProvisioningScheduler {
  readonly #options: ProvisioningSchedulerOptions;
  readonly #timers: Timers;
  readonly #rateLimit: RateLimit;
  readonly #backoff: Backoff;
  readonly #logger: Logger;
  /** Resolves once the request log has been read; requests wait for it. */
  readonly ready: Promise<void>;

  /** Send times within the last rate-limit window, oldest first. */
  #sendTimes: number[] = [];
  /** Epoch ms before which no request may be sent (a 429's `Retry-After`). */
  #notBefore = 0;
  #inFlight: Promise<void> | null = null;
  #pending: PendingAttempt | null = null;
  #online = true;
  #lastAuthFailureRequestAt: number | null = null;
  /** Log writes run one after another, so an older list never overwrites a newer one. */
  #saving: Promise<void> = Promise.resolve();
  /** Incremented by `reset()`, so results of an earlier session schedule nothing. */
  #generation = 0;

  constructor(options: ProvisioningSchedulerOptions) {
    this.#options = options;
    this.#timers = options.timers ?? { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) };
    this.#rateLimit = options.rateLimit ?? SIP_PROVISION_RATE_LIMIT;
    this.#backoff = new Backoff(PROVISIONING_BACKOFF_BASE_MS, PROVISIONING_BACKOFF_MAX_MS, options.random);
    this.#logger = options.logger;
    this.ready = this.#loadRequestLog();
  }

  /** Resolves when every request-log write started so far has finished. */
  get saved(): Promise<void> {
    return this.#saving;
  }

  /** Epoch ms of the next scheduled attempt, or null when none is scheduled. */
  get nextAttemptAt(): number | null {
    return this.#pending?.dueAt ?? null;
  }

  /**
   * Asks for a provisioning request. It runs now when the rate limit and any
   * `Retry-After` allow, otherwise as soon as they do. Resolves when the request
   * that serves this call has finished, or when `reset()` drops it.
   */
  async request(trigger: ProvisioningTrigger): Promise<void> {
    await this.ready;

    if (trigger === 'sip-auth-failure') {
      const now = this.#options.now();
      const last = this.#lastAuthFailureRequestAt;
      if (last !== null && now - last < SIP_AUTH_FAILURE_MIN_INTERVAL_MS) {
        this.#logger.warn('Ignoring a repeated request after rejected SIP credentials', {
          secondsSinceLast: Math.round((now - last) / 1000),
        });
        return;
      }
      this.#lastAuthFailureRequestAt = now;
    }

    if (this.#inFlight !== null) {
      return this.#inFlight;
    }

    // While offline, automatic attempts wait; a user's explicit request still runs.
    const startAt = this.#earliestStart();
    if (startAt <= this.#options.now() && (this.#online || trigger === 'user')) {
      // A retry or poll planned for later is served by this request.
      const waiters = this.#takePending();
      await this.#run(trigger);
      for (const resolve of waiters) resolve();
      return;
    }

    if (trigger !== 'polling' && trigger !== 'retry') {
      this.#logger.info('Provisioning request deferred by the rate limit or Retry-After', {
        trigger,
        startAt: new Date(startAt).toISOString(),
        online: this.#online,
      });
    }
    return this.#schedule(startAt, trigger);
  }

  /** Drops scheduled attempts and backoff, for sign-out and a new sign-in; the rate-limit record stays. */
  reset(): void {
    this.#generation += 1;
    this.#inFlight = null;
    this.#backoff.reset();
    this.#cancelPending();
  }

  /**
   * Records the network state. While offline, due attempts wait; when the
   * network returns, an attempt waiting in backoff runs now (rate limit and
   * `Retry-After` still apply).
   */
  setOnline(online: boolean): void {
    const wasOnline = this.#online;
    this.#online = online;
    if (online && !wasOnline) {
      this.#bringForward('network-online');
    }
  }

  /** After sleep: timers may have been late, and a waiting retry runs now. */
  resumed(): void {
    this.#bringForward('resume');
  }

  #bringForward(cause: string): void {
    const pending = this.#pending;
    if (pending === null || pending.trigger === 'polling') {
      if (pending !== null && pending.dueAt <= this.#options.now()) this.#fire();
      return;
    }

    this.#backoff.reset();
    const startAt = this.#earliestStart();
    this.#logger.info('Provisioning retry brought forward', { cause, startAt: new Date(startAt).toISOString() });
    this.#rearm(startAt);
    this.#options.onRetryScheduled(startAt);
  }

  #schedule(dueAt: number, trigger: ProvisioningTrigger): Promise<void> {
    const done = new Promise<void>((resolve) => {
      const pending = this.#pending;
      if (pending !== null && pending.dueAt <= dueAt) {
        // An earlier attempt is already planned: it serves this request too.
        pending.waiters.push(resolve);
        if (trigger !== 'polling' && trigger !== 'retry') pending.trigger = trigger;
        return;
      }

      const waiters = pending?.waiters ?? [];
      waiters.push(resolve);
      this.#cancelTimer();
      this.#pending = { dueAt, trigger, timer: null, waiters };
      this.#rearm(dueAt);
    });

    if (trigger !== 'polling') {
      this.#options.onRetryScheduled(this.#pending?.dueAt ?? dueAt);
    }
    return done;
  }

  #rearm(dueAt: number): void {
    const pending = this.#pending;
    if (pending === null) return;

    this.#cancelTimer();
    pending.dueAt = dueAt;
    // setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days), so a
    // longer wait is taken in capped steps and #fire checks that it is due.
    const delay = Math.min(Math.max(0, dueAt - this.#options.now()), MAX_TIMER_DELAY_MS);
    pending.timer = this.#timers.setTimeout(() => this.#fire(), delay);
  }

  #fire(): void {
    const pending = this.#pending;
    if (pending === null) return;

    pending.timer = null;
    if (!this.#online) {
      // Waits without a timer until setOnline(true).
      return;
    }

    if (pending.dueAt > this.#options.now()) {
      this.#rearm(pending.dueAt);
      return;
    }

    const startAt = this.#earliestStart();
    if (startAt > this.#options.now()) {
      this.#rearm(startAt);
      return;
    }

    const waiters = this.#takePending();
    void this.#run(pending.trigger).then(() => {
      for (const resolve of waiters) resolve();
    });
  }

  #run(trigger: ProvisioningTrigger): Promise<void> {
    const generation = this.#generation;
    this.#recordSend();

    const run = (async () => {
      let result: ProvisioningAttemptResult;
      try {
        result = await this.#options.attempt(trigger);
      } catch (error) {
        this.#logger.error('Provisioning attempt threw; retrying with backoff', { trigger, error });
        result = { outcome: 'failed', retry: { kind: 'backoff' } };
      }

      if (generation === this.#generation) {
        this.#afterAttempt(result);
      }
    })();

    const inFlight = run.finally(() => {
      if (this.#inFlight === inFlight) this.#inFlight = null;
    });
    this.#inFlight = inFlight;
    return inFlight;
  }

  #afterAttempt(result: ProvisioningAttemptResult): void {
    const now = this.#options.now();

    switch (result.outcome) {
      case 'succeeded': {
        this.#backoff.reset();
        const intervalS = Math.max(MIN_POLLING_INTERVAL_S, result.pollingIntervalSeconds);
        void this.#schedule(Math.max(now + intervalS * 1000, this.#earliestStart()), 'polling');
        return;
      }
      case 'failed': {
        const retryAt = this.#retryTime(result.retry, now);
        if (retryAt === null) {
          this.#cancelPending();
          this.#options.onRetryScheduled(null);
          return;
        }
        void this.#schedule(retryAt, 'retry');
        return;
      }
      case 'abandoned':
        return;
    }
  }

  #retryTime(hint: RetryHint, now: number): number | null {
    switch (hint.kind) {
      case 'none':
        return null;
      case 'after':
        this.#notBefore = Math.max(this.#notBefore, now + hint.seconds * 1000);
        return this.#earliestStart();
      case 'backoff':
        return Math.max(now + this.#backoff.nextDelayMs(), this.#earliestStart());
    }
  }

  /** Returns the first time the rate limit and `Retry-After` allow a request. */
  #earliestStart(): number {
    const now = this.#options.now();
    this.#pruneSendTimes(now);

    let startAt = Math.max(now, this.#notBefore);
    if (this.#sendTimes.length >= this.#rateLimit.requests) {
      const oldestCounted = this.#sendTimes[this.#sendTimes.length - this.#rateLimit.requests]!;
      startAt = Math.max(startAt, oldestCounted + this.#rateLimit.windowMs + 1);
    }
    return startAt;
  }

  #recordSend(): void {
    const now = this.#options.now();
    this.#pruneSendTimes(now);
    this.#sendTimes.push(now);

    const log = this.#options.requestLog;
    if (log !== undefined) {
      const sendTimes = [...this.#sendTimes];
      this.#saving = this.#saving.then(() =>
        log.save(sendTimes).catch((error: unknown) => {
          this.#logger.warn('Could not save the sip-provision request log', { error });
        }),
      );
    }
  }

  #pruneSendTimes(now: number): void {
    // Times in the future come from a clock that was set back; they still count
    // until the window has passed from the current time.
    this.#sendTimes = this.#sendTimes.filter((time) => time > now - this.#rateLimit.windowMs);
  }

  async #loadRequestLog(): Promise<void> {
    const log = this.#options.requestLog;
    if (log === undefined) return;

    try {
      const times = await log.load();
      this.#sendTimes = times.filter((time) => Number.isFinite(time)).sort((a, b) => a - b);
      this.#pruneSendTimes(this.#options.now());
    } catch (error) {
      this.#logger.warn('Could not read the sip-provision request log; starting without it', { error });
    }
  }

  #cancelTimer(): void {
    if (this.#pending?.timer != null) {
      this.#timers.clearTimeout(this.#pending.timer);
      this.#pending.timer = null;
    }
  }

  /** Removes the planned attempt and returns the callers waiting for it. */
  #takePending(): Array<() => void> {
    const pending = this.#pending;
    if (pending === null) return [];

    this.#cancelTimer();
    this.#pending = null;
    return pending.waiters;
  }

  #cancelPending(): void {
    for (const resolve of this.#takePending()) resolve();
  }
}

/**
 * Classifies a failed provisioning request. A 429 waits for `Retry-After`.
 * A 5xx, a network failure or an unusable response backs off. The documented
 * error codes and other 4xx responses need the user or an administrator.
 */
export function retryHintFor(error: unknown): RetryHint {
  const cause = innermostKnownCause(error);

  if (cause instanceof PlatformError) {
    if (cause.status === 429) {
      return { kind: 'after', seconds: cause.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_S };
    }
    return cause.status >= 500 ? { kind: 'backoff' } : { kind: 'none' };
  }
  if (cause instanceof PlatformNetworkError || cause instanceof InvalidPlatformResponseError) {
    return { kind: 'backoff' };
  }
  if (cause instanceof ProvisioningError && cause.userError.code === 'INVALID_SIP_PROVISION_RESPONSE') {
    return { kind: 'backoff' };
  }
  return { kind: 'none' };
}

/** Follows `cause` links down to a platform error, or returns the last `ProvisioningError`. */
function innermostKnownCause(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth += 1) {
    if (current instanceof PlatformError || current instanceof PlatformNetworkError) return current;
    if (current instanceof InvalidPlatformResponseError) return current;
    if (!(current instanceof Error) || current.cause === undefined) return current;
    current = current.cause;
  }
  return current;
}

export const PROVISIONING_LOG_FILE_NAME = 'provisioning-requests.json';

const requestLogFileSchema = z.object({ sendTimes: z.array(z.number()) });

/**
 * Keeps the send times of recent sip-provision requests in
 * `directory/provisioning-requests.json`, so that restarting the app in a loop
 * cannot exceed the rate limit. A missing file is an empty log.
 */
export function createFileRequestLog(directory: string): ProvisioningRequestLog {
  const path = join(directory, PROVISIONING_LOG_FILE_NAME);

  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      return requestLogFileSchema.parse(JSON.parse(text)).sendTimes;
    },
    async save(sendTimes) {
      await writeFileAtomic(path, `${JSON.stringify({ sendTimes })}\n`);
    },
  };
}
