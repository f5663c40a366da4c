import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ProvisioningError } from '../../src/main/provisioning-errors';
import { parseSipProvisionResponse, sipProfileSchema } from '../../src/main/sip-provision';
import type { SipProfile } from '../../src/shared/sip-profile';
import { callWithinHangBound, fuzzRuns } from './fuzz-runs';

// test/main/sip-provision-properties.test.ts contains the structured properties
// (valid responses, damaged fields, extra fields), and `npm run fuzz` runs it with
// the same FUZZ_RUNS. This file adds bodies as JSON.parse decodes the platform's text.
const RUNS = fuzzRuns();

/** Parses `body` and fails the case on any throw other than `ProvisioningError`. */
function parse(body: unknown): void {
  let profile: SipProfile;
  try {
    profile = callWithinHangBound(() => parseSipProvisionResponse(body), body);
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    expect((error as ProvisioningError).userError.code).toBe('INVALID_SIP_PROVISION_RESPONSE');
    return;
  }

  expect(sipProfileSchema.safeParse(profile).success).toBe(true);
  expect(profile.outboundProxy).not.toMatch(/[\s<>]/);
  expect(profile.domain).not.toMatch(/[\s<>]/);
  expect(profile.username).not.toMatch(/[\s<>]/);
}

function entryJson(fields: Record<string, string>): string {
  const base: Record<string, string> = {
    transport: '"WSS"',
    username: '"16505550100"',
    password: '"secret"',
    authorizationId: '"400123456"',
    domain: '"sip.ringcentral.com"',
    outboundProxy: '"sip10.ringcentral.com:8083"',
    ...fields,
  };
  return `{${Object.entries(base)
    .map(([name, value]) => `${JSON.stringify(name)}:${value}`)
    .join(',')}}`;
}

const hostlikeText = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9.\-[\]:]{0,300}$/),
  // Labels that make a backtracking host pattern explore many splits.
  fc.integer({ min: 1, max: 4_000 }).map((length) => `${'a-'.repeat(length)}!`),
  fc.integer({ min: 1, max: 4_000 }).map((length) => `${'a.'.repeat(length)}-`),
  fc.integer({ min: 1, max: 4_000 }).map((length) => `${'1'.repeat(length)}:${'9'.repeat(length)}`),
  fc.constantFrom('host\r\nVia: x:443', 'host:443\r\n', '[::1]:443', '[::1:443', 'h:0', 'h:65536', ' h:1', 'h :1', 'h:1 ', 'h<x>:1'),
);

describe('parseSipProvisionResponse fuzzing', () => {
  it('throws only ProvisioningError on any JSON text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.jsonValue().map((value) => JSON.stringify(value))), (text) => {
        parse(JSON.parse(text));
      }),
      { numRuns: RUNS },
    );
  });

  it('throws only ProvisioningError on own __proto__ and constructor keys', () => {
    fc.assert(
      fc.property(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'), fc.jsonValue().map((value) => JSON.stringify(value)), (key, value) => {
        // JSON.parse creates an own "__proto__" property, unlike an object literal.
        parse(JSON.parse(`{${JSON.stringify(key)}:${value},"sipInfo":[${entryJson({ [key]: value })}]}`));
        parse(JSON.parse(`{"sipInfo":${value},${JSON.stringify(key)}:{"sipInfo":[]}}`));
      }),
      { numRuns: RUNS },
    );
  });

  it('checks hosts and ports of any shape', () => {
    fc.assert(
      fc.property(hostlikeText, fc.constantFrom('domain', 'outboundProxy', 'outboundProxyBackup', 'stunServers'), (host, field) => {
        const value = field === 'stunServers' ? JSON.stringify([host]) : JSON.stringify(host);
        parse(JSON.parse(`{"sipInfo":[${entryJson({ [field]: value })}]}`));
      }),
      { numRuns: RUNS },
    );
  });

  it('throws only ProvisioningError on deep and wide bodies', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000 }), fc.constantFrom('[', '{"sipInfo":'), (depth, opener) => {
        const closer = opener === '[' ? ']' : '}';
        parse(JSON.parse(`{"sipInfo":${opener.repeat(depth)}1${closer.repeat(depth)}}`));
        parse(JSON.parse(`{"sipInfo":[${Array.from({ length: depth }, () => entryJson({ transport: '"TCP"' })).join(',')}]}`));
      }),
      { numRuns: Math.ceil(RUNS / 20) },
    );
  });
});
