import { describe, expect, it } from 'vitest';

import type { PhoneStatus } from '../../src/shared/desktop';
import type { CallState } from '../../src/renderer/sip/call-state';
import type { RegistrationState } from '../../src/renderer/sip/registration-state';
import type { CallInfo } from '../../src/renderer/sip/softphone-engine';
import {
  DoNotDisturbFilter,
  PhoneStatusReporter,
  toPhoneStatus,
  toSipTraceEntry,
} from '../../src/renderer/state/desktop-status';

function callInfo(id: string, direction: CallInfo['direction'], state: CallState): CallInfo {
  return {
    id,
    direction,
    remoteDisplay: 'Alice',
    remoteName: 'Alice',
    remoteNumber: '+16505550101',
    remoteUri: 'sip:16505550101@sip.example.test',
    startedAt: 1_000,
    state,
    muted: false,
    recording: false,
    remoteHold: false,
    rcCallControl: true,
    consultFor: null,
    dialedExtension: null,
    notice: null,
  };
}

const REGISTERED = { status: 'registered', server: 'p:1', proxy: 'primary', since: 1, switchBackAt: null } as RegistrationState;
const ringing = (id: string) => callInfo(id, 'inbound', { status: 'ringing' });
const ended = (id: string) => callInfo(id, 'inbound', { status: 'ended', reason: 'missed', detail: null, endedAt: 2 } as CallState);

describe('phone status for the tray', () => {
  const registrations: [RegistrationState['status'], PhoneStatus['registration']][] = [
    ['registered', 'registered'],
    ['connecting', 'connecting'],
    ['registering', 'connecting'],
    ['unregistering', 'connecting'],
    ['unregistered', 'offline'],
    ['failed', 'offline'],
  ];

  for (const [status, expected] of registrations) {
    it(`maps ${status} to ${expected}`, () => {
      expect(toPhoneStatus({ status } as RegistrationState, []).registration).toBe(expected);
    });
  }

  it('counts any call that has not ended as in a call', () => {
    expect(toPhoneStatus(REGISTERED, [ringing('a')]).inCall).toBe(true);
    expect(toPhoneStatus(REGISTERED, [callInfo('b', 'outbound', { status: 'dialing' })]).inCall).toBe(true);
    expect(toPhoneStatus(REGISTERED, [ended('c')]).inCall).toBe(false);
    expect(toPhoneStatus(REGISTERED, []).inCall).toBe(false);
  });

  it('reports only changes', async () => {
    const sent: PhoneStatus[] = [];
    const reporter = new PhoneStatusReporter(async (status) => void sent.push(status));

    reporter.update(REGISTERED, []);
    reporter.update(REGISTERED, []);
    reporter.update(REGISTERED, [ringing('a')]);
    reporter.update(REGISTERED, [ringing('a')]);
    reporter.update({ status: 'unregistered' }, []);

    expect(sent).toEqual([
      { registration: 'registered', inCall: false },
      { registration: 'registered', inCall: true },
      { registration: 'offline', inCall: false },
    ]);
  });

  it('sends again after a failed report', async () => {
    let attempts = 0;
    const reporter = new PhoneStatusReporter(() => {
      attempts += 1;
      return attempts === 1 ? Promise.reject(new Error('no main process')) : Promise.resolve();
    });

    reporter.update(REGISTERED, []);
    await new Promise((resolve) => setImmediate(resolve));
    reporter.update(REGISTERED, []);

    expect(attempts).toBe(2);
  });
});

describe('Do Not Disturb filter', () => {
  it('lets every call ring while it is off', () => {
    const filter = new DoNotDisturbFilter();
    const diverted: string[] = [];

    const alerting = filter.callsToAlert([ringing('a')], false, (call) => diverted.push(call.id));

    expect(alerting.map((call) => call.id)).toEqual(['a']);
    expect(diverted).toEqual([]);
  });

  it('diverts each ringing inbound call once and keeps it silent', () => {
    const filter = new DoNotDisturbFilter();
    const diverted: string[] = [];
    const outbound = callInfo('out', 'outbound', { status: 'ringing' });

    const first = filter.callsToAlert([ringing('a'), outbound], true, (call) => diverted.push(call.id));
    const second = filter.callsToAlert([ringing('a'), outbound], true, (call) => diverted.push(call.id));

    expect(first.map((call) => call.id)).toEqual(['out']);
    expect(second.map((call) => call.id)).toEqual(['out']);
    expect(diverted).toEqual(['a']);
  });

  it('keeps a diverted call silent after Do Not Disturb is turned off', () => {
    const filter = new DoNotDisturbFilter();
    filter.callsToAlert([ringing('a')], true, () => {});

    const alerting = filter.callsToAlert([ringing('a'), ringing('b')], false, () => {});

    expect(alerting.map((call) => call.id)).toEqual(['b']);
  });

  it('forgets calls that are gone', () => {
    const filter = new DoNotDisturbFilter();
    const diverted: string[] = [];
    filter.callsToAlert([ringing('a')], true, (call) => diverted.push(call.id));
    filter.callsToAlert([], true, (call) => diverted.push(call.id));

    filter.callsToAlert([ringing('a')], true, (call) => diverted.push(call.id));

    expect(diverted).toEqual(['a', 'a']);
  });
});

describe('SIP trace entries', () => {
  it('keeps sip.js categories and puts the label before the content', () => {
    expect(toSipTraceEntry('log', 'sip.Transport', undefined, 'REGISTER')).toEqual({ level: 'log', category: 'sip.Transport', content: 'REGISTER' });
    expect(toSipTraceEntry('debug', 'sip.Invitation', 'abc123', 'state')).toEqual({ level: 'debug', category: 'sip.Invitation', content: 'abc123 | state' });
  });

  it('replaces a category the main process would reject', () => {
    expect(toSipTraceEntry('warn', 'sip Session <x>', undefined, 'x').category).toBe('sip');
  });

  it('cuts content to what the main process accepts', () => {
    const entry = toSipTraceEntry('log', 'sip.Transport', undefined, 'x'.repeat(300_000));

    expect(entry.content.length).toBe(256 * 1024);
  });
});
