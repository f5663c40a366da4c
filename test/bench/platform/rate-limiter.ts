/** Per-app, per-user rate limiting of the platform stand-in's REST API. */

/**
 * Usage plan groups, counted per app and user. Heavy (10 per 60 s) covers sip-provision and Light
 * (50 per 60 s) covers extension info, as RingCentral's API reference lists them. After the limit
 * is passed, every call is rejected for a 60 s penalty interval, as RingCentral describes for 429s.
 */
export const RATE_LIMIT_GROUPS = {
  heavy: { limit: 10, windowSeconds: 60 },
  light: { limit: 50, windowSeconds: 60 },
} as const;

const RATE_LIMIT_PENALTY_SECONDS = 60;

export type RateLimitGroup = keyof typeof RATE_LIMIT_GROUPS;

interface RateLimitDecision {
  allowed: boolean;
  headers: Record<string, string>;
}

export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly penaltyUntil = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  check(key: string, group: RateLimitGroup): RateLimitDecision {
    const { limit, windowSeconds } = RATE_LIMIT_GROUPS[group];
    const t = this.now();
    const headers = (remaining: number): Record<string, string> => ({
      'X-Rate-Limit-Group': group,
      'X-Rate-Limit-Limit': String(limit),
      'X-Rate-Limit-Remaining': String(remaining),
      'X-Rate-Limit-Window': String(windowSeconds),
    });

    const penaltyEnd = this.penaltyUntil.get(key) ?? 0;
    if (t < penaltyEnd) {
      const retryAfter = Math.ceil((penaltyEnd - t) / 1000);
      return { allowed: false, headers: { ...headers(0), 'Retry-After': String(retryAfter) } };
    }

    const recent = (this.hits.get(key) ?? []).filter((hit) => hit > t - windowSeconds * 1000);
    if (recent.length >= limit) {
      this.penaltyUntil.set(key, t + RATE_LIMIT_PENALTY_SECONDS * 1000);
      this.hits.set(key, recent);
      return { allowed: false, headers: { ...headers(0), 'Retry-After': String(RATE_LIMIT_PENALTY_SECONDS) } };
    }

    recent.push(t);
    this.hits.set(key, recent);
    return { allowed: true, headers: headers(limit - recent.length) };
  }
}
