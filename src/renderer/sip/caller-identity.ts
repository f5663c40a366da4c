import { Grammar, type NameAddrHeader } from 'sip.js';

/** The other party of a call, as the call screen shows it. */
export interface RemoteParty {
  name: string | null;
  /** Phone number, extension or SIP user part; null when none is known. */
  number: string | null;
  /** The name when known, else the number, else the URI. */
  display: string;
}

/** A name-addr from a SIP header, reduced to what identifies a person. */
export interface SipIdentity {
  displayName: string | null;
  user: string | null;
  uri: string;
}

export function sipIdentityOf(header: NameAddrHeader): SipIdentity {
  return {
    displayName: (header.displayName ?? '').trim() || null,
    user: header.uri.user ?? null,
    uri: header.uri.toString(),
  };
}

/** Parses a `P-Asserted-Identity` value (RFC 3325 §9.1); null when absent or not a name-addr. */
export function parseAssertedIdentity(value: string | undefined): SipIdentity | null {
  if (!value) return null;

  // The header may list a sip: and a tel: identity; the first one is used.
  const first = value.split(/,(?=\s*(?:"|<|sips?:|tel:))/)[0]!.trim();
  const header = Grammar.nameAddrHeaderParse(first);
  return header ? sipIdentityOf(header) : null;
}

/**
 * Names the caller of an inbound call. Each field comes from RingCentral's
 * `P-rc` body when it has one (the server's caller-id lookup), else from
 * `P-Asserted-Identity` (the identity the network vouches for), else from `From`.
 * `formatNumber` formats the number for `display` only, so `number` stays as
 * received and can be dialed back.
 */
export function describeCaller(
  rc: { name: string | null; number: string | null } | null,
  asserted: SipIdentity | null,
  from: SipIdentity,
  formatNumber: (number: string) => string = (number) => number,
): RemoteParty {
  const name = rc?.name ?? asserted?.displayName ?? from.displayName;
  const number = rc?.number ?? asserted?.user ?? from.user;
  const uri = asserted?.uri ?? from.uri;
  return { name, number, display: name ?? (number === null ? uri : formatNumber(number)) };
}
