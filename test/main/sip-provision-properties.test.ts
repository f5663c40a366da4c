import fc from 'fast-check';
import { Grammar } from 'sip.js';
import { describe, expect, it } from 'vitest';

import { ProvisioningError } from '../../src/main/provisioning-errors';
import { parseSipProvisionResponse, sipProfileSchema } from '../../src/main/sip-provision';
import { buildUserAgentOptions, webSocketServerUrl } from '../../src/renderer/sip/user-agent-options';
import type { SipProfile } from '../../src/shared/sip-profile';
import { fuzzRuns } from '../fuzz/fuzz-runs';

// `npm run fuzz` raises the count through FUZZ_RUNS.
const RUNS = fuzzRuns(300);
const IDENTITY = { instanceId: '3f2a1c4e-8b6d-4e2f-9a1b-0c3d5e7f9a2b', clientId: 'client', userAgentString: 'RCSoftphone/0.1.0' };

type Outcome = { profile: SipProfile } | { error: ProvisioningError };

/** Parses `body`; any throw other than the typed error fails the property. */
function parse(body: unknown): Outcome {
  try {
    return { profile: parseSipProvisionResponse(body) };
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    const provisioningError = error as ProvisioningError;
    expect(provisioningError.userError.code).toBe('INVALID_SIP_PROVISION_RESPONSE');
    expect(provisioningError.userError.message).toMatch(/^The RingCentral platform's SIP provisioning response cannot be used: /);
    return { error: provisioningError };
  }
}

/** Checks what the renderer relies on: the cache schema accepts it and sip.js can build URIs from it. */
function expectUsableProfile(profile: SipProfile): void {
  expect(sipProfileSchema.safeParse(profile).success).toBe(true);
  expect(() => buildUserAgentOptions(profile, IDENTITY, profile.outboundProxy)).not.toThrow();
  for (const server of [profile.outboundProxy, profile.outboundProxyBackup]) {
    if (server !== null) expect(Grammar.parse(webSocketServerUrl(server), 'absoluteURI')).not.toBe(-1);
  }
  expect(profile.outboundProxyBackup).not.toBe(profile.outboundProxy);
  expect(profile.pollingInterval).toBeGreaterThan(0);
  expect(profile.switchBackInterval).toBeGreaterThanOrEqual(0);
  for (const code of profile.sipErrorCodes) {
    expect(Number.isInteger(code)).toBe(true);
    expect(code).toBeGreaterThanOrEqual(100);
    expect(code).toBeLessThanOrEqual(699);
  }
}

const hostname = fc.domain();
const port = fc.integer({ min: 1, max: 65535 });
const hostPort = fc.tuple(fc.oneof(hostname, fc.ipV4()), port).map(([host, number]) => `${host}:${number}`);

const validEntry = fc.record({
  transport: fc.constant('WSS'),
  username: fc.stringMatching(/^[0-9]{11}(\*[0-9]{3})?$/),
  password: fc.string({ minLength: 1, maxLength: 20 }).filter((text) => text.trim() !== ''),
  authorizationTypes: fc.constant(['SipDigest']),
  authorizationId: fc.stringMatching(/^[0-9]{6,15}$/),
  domain: hostname,
  outboundProxy: hostPort,
  outboundProxyBackup: hostPort,
  switchBackInterval: fc.integer({ min: 0, max: 86_400 }),
  stunServers: fc.array(hostPort, { maxLength: 3 }),
});

const validResponse = fc.record({
  device: fc.record({ id: fc.stringMatching(/^[0-9]{1,38}$/), type: fc.constant('WebPhone') }),
  sipInfo: fc.array(validEntry, { minLength: 1, maxLength: 3 }),
  sipFlags: fc.record({
    voipFeatureEnabled: fc.boolean(),
    voipCountryBlocked: fc.boolean(),
    outboundCallsEnabled: fc.boolean(),
  }),
  sipErrorCodes: fc.array(fc.constantFrom('408', '502', '503', '504', 486), { maxLength: 4 }),
  pollingInterval: fc.integer({ min: 1, max: 86_400 }),
});

/** A replacement value for a field: a wrong type, an empty or blank string, or anything at all. */
const strangeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(''),
  fc.constant('   '),
  fc.constant(null),
  fc.constant(undefined),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.string(),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
  fc.anything(),
);

type Mutation = { path: string[]; value: unknown } | { path: string[]; remove: true };

const topLevelField = fc.constantFrom('device', 'sipInfo', 'sipFlags', 'sipErrorCodes', 'pollingInterval');
const entryField = fc.constantFrom(
  'transport',
  'username',
  'password',
  'authorizationId',
  'domain',
  'outboundProxy',
  'outboundProxyBackup',
  'switchBackInterval',
  'stunServers',
);
const flagField = fc.constantFrom('voipFeatureEnabled', 'voipCountryBlocked', 'outboundCallsEnabled');

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ path: topLevelField.map((field) => [field]), value: strangeValue }),
  fc.record({ path: topLevelField.map((field) => [field]), remove: fc.constant(true as const) }),
  fc.record({
    path: fc.tuple(fc.integer({ min: 0, max: 2 }), entryField).map(([index, field]) => ['sipInfo', String(index), field]),
    value: strangeValue,
  }),
  fc.record({
    path: fc.tuple(fc.integer({ min: 0, max: 2 }), entryField).map(([index, field]) => ['sipInfo', String(index), field]),
    remove: fc.constant(true as const),
  }),
  fc.record({ path: flagField.map((field) => ['sipFlags', field]), value: strangeValue }),
  // Extra fields that no schema defines.
  fc.record({ path: fc.string({ minLength: 1, maxLength: 8 }).map((field) => [`x-${field}`]), value: fc.anything() }),
  fc.record({
    path: fc.string({ minLength: 1, maxLength: 8 }).map((field) => ['sipInfo', '0', `x-${field}`]),
    value: fc.anything(),
  }),
);

function applyMutation(body: Record<string, unknown>, change: Mutation): void {
  let target: unknown = body;
  for (const key of change.path.slice(0, -1)) {
    if (typeof target !== 'object' || target === null) return;
    target = (target as Record<string, unknown>)[key];
  }
  if (typeof target !== 'object' || target === null) return;

  const last = change.path[change.path.length - 1]!;
  if ('remove' in change) {
    delete (target as Record<string, unknown>)[last];
  } else {
    (target as Record<string, unknown>)[last] = change.value;
  }
}

/** Returns the first `sipInfo` entry that the parser accepts on its own, or undefined. */
function firstUsableEntry(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const entries = body['sipInfo'];
  if (!Array.isArray(entries)) return undefined;

  return entries.find((entry: unknown) => {
    try {
      parseSipProvisionResponse({ sipInfo: [entry] });
      return true;
    } catch {
      return false;
    }
  }) as Record<string, unknown> | undefined;
}

describe('sip-provision parser properties', () => {
  it('throws only ProvisioningError for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        const outcome = parse(body);
        if ('profile' in outcome) expectUsableProfile(outcome.profile);
      }),
      { numRuns: RUNS },
    );
  });

  it('throws only ProvisioningError for any value at all', () => {
    fc.assert(
      fc.property(fc.anything({ withBoxedValues: true, withMap: true, withSet: true, withNullPrototype: true }), (body) => {
        const outcome = parse(body);
        if ('profile' in outcome) expectUsableProfile(outcome.profile);
      }),
      { numRuns: RUNS },
    );
  });

  it('parses every valid response into a usable profile', () => {
    fc.assert(
      fc.property(validResponse, (body) => {
        const outcome = parse(body);

        expect('profile' in outcome).toBe(true);
        if (!('profile' in outcome)) return;
        const entry = body.sipInfo[0]!;
        expectUsableProfile(outcome.profile);
        expect(outcome.profile.username).toBe(entry.username);
        expect(outcome.profile.outboundProxy).toBe(entry.outboundProxy);
        expect(outcome.profile.sipFlags).toEqual(body.sipFlags);
        expect(outcome.profile.pollingInterval).toBe(body.pollingInterval);
      }),
      { numRuns: RUNS },
    );
  });

  it('handles damaged responses', () => {
    fc.assert(
      fc.property(validResponse, fc.array(mutation, { minLength: 1, maxLength: 4 }), (valid, changes) => {
        // A prefix that no message contains by chance, so a generated password
        // such as "name" is not mistaken for a leak.
        for (const [index, entry] of valid.sipInfo.entries()) entry.password = `pw-${index}:${entry.password}`;
        const body = structuredClone(valid) as unknown as Record<string, unknown>;
        const passwords = valid.sipInfo.map((entry) => entry.password);
        for (const change of changes) applyMutation(body, change);

        const outcome = parse(body);
        if ('error' in outcome) {
          // The message names a field or the missing entry, and never a password.
          for (const password of passwords) expect(outcome.error.userError.message).not.toContain(password.trim());
          return;
        }

        expectUsableProfile(outcome.profile);
        const chosen = firstUsableEntry(body);
        expect(chosen).toBeDefined();
        expect(outcome.profile.password).toBe((chosen!['password'] as string).trim());
      }),
      { numRuns: RUNS },
    );
  });

  it('ignores extra fields anywhere', () => {
    fc.assert(
      fc.property(
        validResponse,
        fc.dictionary(fc.string({ minLength: 1 }).map((key) => `extra-${key}`), fc.jsonValue(), { maxKeys: 3 }),
        (valid, extras) => {
          const withExtras = {
            ...structuredClone(valid),
            ...extras,
            sipInfo: valid.sipInfo.map((entry) => ({ ...entry, ...extras })),
            sipFlags: { ...valid.sipFlags, ...extras, dscpEnabled: true, dscpVoice: 46 },
          };

          expect(parseSipProvisionResponse(withExtras)).toEqual(parseSipProvisionResponse(valid));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('leaves out a backup proxy or STUN server that is not host:port', () => {
    fc.assert(
      fc.property(validResponse, strangeValue.filter((value) => typeof value === 'string'), (valid, bad) => {
        const body = structuredClone(valid);
        const entry = body.sipInfo[0]!;
        Object.assign(entry, { outboundProxyBackup: bad, stunServers: [bad, ...entry.stunServers] });

        const outcome = parse(body);

        expect('profile' in outcome).toBe(true);
        if ('profile' in outcome) expectUsableProfile(outcome.profile);
      }),
      { numRuns: RUNS },
    );
  });
});
