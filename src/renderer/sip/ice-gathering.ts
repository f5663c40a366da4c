/**
 * When an SDP offer or answer stops waiting for ICE candidates. Without trickle
 * ICE (RingCentral's SIP servers take complete offers), every candidate the
 * offer lacks is lost, but every millisecond spent waiting delays the INVITE.
 *
 * Chromium reports its UDP host candidates within a few milliseconds, TCP host
 * candidates about 120 ms later, and a server-reflexive candidate one STUN
 * round trip later, or never when the STUN server does not answer. The policy
 * therefore sends the description once the UDP candidates have settled, waiting
 * a short, bounded time for a server-reflexive one. RingCentral's media servers
 * are reachable on public addresses and learn the client's NAT address as a
 * peer-reflexive candidate from its connectivity checks (RFC 8445 §7.3.1.3), so
 * a description without one still connects.
 */

export interface IceGatheringBounds {
  /** Maximum wait from the start of gathering, whatever arrives. */
  maxMs: number;
  /** Maximum wait from the start for a server-reflexive or relay candidate, when ICE servers are configured. */
  reflexiveWaitMs: number;
  /** Quiet time after the latest candidate, so candidates reported together all make it in. */
  settleMs: number;
}

/**
 * Bounds that keep click-to-INVITE under 50 ms with the microphone open ahead
 * (PreparedMicrophone). The 10 ms wait catches only a STUN server close by; a
 * server-reflexive candidate from farther away misses the offer, which costs
 * nothing with RingCentral's public media servers (see the module comment).
 */
export const DEFAULT_ICE_GATHERING_BOUNDS: IceGatheringBounds = { maxMs: 500, reflexiveWaitMs: 10, settleMs: 5 };

export interface GatheredCandidate {
  /** `host`, `srflx`, `prflx` or `relay`. */
  type: string | null;
  /** `udp` or `tcp`. */
  protocol: string | null;
}

/** Tracks one gathering round; times are in milliseconds on any one clock. */
export class IceGatheringPolicy {
  #hasUdpCandidate = false;
  #hasReflexiveCandidate = false;
  #lastCandidateAt: number | null = null;

  constructor(
    private readonly bounds: IceGatheringBounds,
    /** True when STUN or TURN servers are configured, so a server-reflexive or relay candidate may come. */
    private readonly expectsReflexive: boolean,
    private readonly startedAt: number,
  ) {}

  add(candidate: GatheredCandidate, at: number): void {
    this.#lastCandidateAt = at;
    if (candidate.protocol?.toLowerCase() === 'udp') this.#hasUdpCandidate = true;
    if (candidate.type === 'srflx' || candidate.type === 'relay') this.#hasReflexiveCandidate = true;
  }

  /** Returns the time at which the description should go, given the candidates so far. */
  doneAt(): number {
    const cap = this.startedAt + this.bounds.maxMs;
    if (!this.#hasUdpCandidate || this.#lastCandidateAt === null) return cap;

    const settledAt = this.#lastCandidateAt + this.bounds.settleMs;
    if (!this.expectsReflexive || this.#hasReflexiveCandidate) return Math.min(cap, settledAt);
    return Math.min(cap, Math.max(settledAt, this.startedAt + this.bounds.reflexiveWaitMs));
  }
}

/** Reads the candidates already in an SDP (`a=candidate:` lines, RFC 8839 §5.1). */
export function candidatesInSdp(sdp: string): GatheredCandidate[] {
  const candidates: GatheredCandidate[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    const match = /^a=candidate:\S+ \d+ (\S+) \d+ \S+ \d+ typ (\S+)/i.exec(line);
    if (match) candidates.push({ protocol: match[1]!, type: match[2]! });
  }
  return candidates;
}

/** Reads the session's `a=ice-ufrag` (the first one), which changes on every ICE restart. */
export function iceUsernameFragment(sdp: string): string | null {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1] ?? null;
}
