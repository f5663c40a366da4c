import { describe, expect, it } from 'vitest';

import type { IncomingCallNotice } from '../../src/shared/notifications';
import type { SoftphoneBridge } from '../../src/shared/ipc';
import type { Ringer } from '../../src/renderer/audio/ringer';
import type { CallState } from '../../src/renderer/sip/call-state';
import type { CallInfo } from '../../src/renderer/sip/softphone-engine';
import { callBackNumberOf, dialStringOfUri, historyEntryOf } from '../../src/renderer/state/history-entry';
import { IncomingCallAlerts } from '../../src/renderer/state/incoming-call-alerts';

function callInfo(change: Partial<CallInfo> & { state: CallState }): CallInfo {
  return {
    id: 'call-1',
    direction: 'inbound',
    remoteDisplay: 'Alice Bench',
    remoteName: 'Alice Bench',
    remoteNumber: '+16505550101',
    remoteUri: 'sip:16505550101@sip.bench.test',
    startedAt: 1_000_000,
    muted: false,
    recording: false,
    remoteHold: false,
    rcCallControl: false,
    consultFor: null,
    dialedExtension: null,
    notice: null,
    ...change,
  };
}

const ended = (reason: string, detail: string | null = null): CallState =>
  ({ status: 'ended', reason, detail, endedAt: 1_065_400 }) as CallState;

describe('historyEntryOf', () => {
  it('records an answered call with its duration', () => {
    const entry = historyEntryOf(callInfo({ state: ended('hung-up-remotely') }), 1_003_000);

    expect(entry).toEqual({
      direction: 'inbound',
      number: '+16505550101',
      extension: null,
      name: 'Alice Bench',
      startedAt: 1_000_000,
      durationSeconds: 62,
      result: 'answered',
      detail: null,
    });
  });

  it.each([
    ['missed', 'missed'],
    ['declined', 'declined'],
    ['sent-to-voicemail', 'declined'],
    ['answered-elsewhere', 'answered-elsewhere'],
    ['cancelled', 'cancelled'],
    ['busy', 'busy'],
    ['rejected', 'rejected'],
    ['failed', 'failed'],
  ])('maps an unanswered call ended as %s to %s', (reason, result) => {
    const entry = historyEntryOf(callInfo({ state: ended(reason, '486 Busy Here') }), null);

    expect(entry?.result).toBe(result);
    expect(entry?.durationSeconds).toBe(0);
    expect(entry?.detail).toBe('486 Busy Here');
  });

  it('keeps the extension dialed after an outbound number', () => {
    const entry = historyEntryOf(
      callInfo({ direction: 'outbound', remoteUri: 'sip:+16505550102@sip.bench.test', dialedExtension: '42', state: ended('cancelled') }),
      null,
    );

    expect(entry).toMatchObject({ number: '+16505550102', extension: '42', result: 'cancelled' });
  });

  it('counts a transferred call as answered', () => {
    expect(historyEntryOf(callInfo({ state: ended('transferred') }), 1_001_000)?.result).toBe('answered');
  });

  it('ignores a call that has not ended', () => {
    expect(historyEntryOf(callInfo({ state: { status: 'ringing' } }), null)).toBeNull();
  });
});

describe('callBackNumberOf', () => {
  it('takes an outbound number from the request-URI', () => {
    const call = { direction: 'outbound' as const, remoteNumber: '(650) 555-0102', remoteUri: 'sip:+16505550102@sip.bench.test' };

    expect(callBackNumberOf(call)).toBe('+16505550102');
  });

  it('takes an inbound number from the caller identity', () => {
    const call = { direction: 'inbound' as const, remoteNumber: '+1 650 555 0101', remoteUri: 'sip:anonymous@x.test' };

    expect(callBackNumberOf(call)).toBe('+16505550101');
  });

  it('falls back to the URI when the identity is no number', () => {
    const call = { direction: 'inbound' as const, remoteNumber: 'alice', remoteUri: 'sip:alice@example.com;transport=ws' };

    expect(callBackNumberOf(call)).toBe('sip:alice@example.com');
  });

  it.each([
    ['sip:101@sip.bench.test', '101'],
    ['sip:%2331%23@sip.bench.test', '#31#'],
    ['sips:alice:secret@example.com;transport=ws?X=1', 'sips:alice@example.com'],
    ['not a uri', 'not a uri'],
  ])('reduces %j to %j', (uri, number) => {
    expect(dialStringOfUri(uri)).toBe(number);
  });
});

/** A ringer that records its calls instead of playing sound. */
function createRecordingRinger(failOn: string | null = null) {
  const events: string[] = [];
  let ringing = false;
  const ringer = {
    get ringing() {
      return ringing;
    },
    async start(deviceId: string | null) {
      events.push(`start ${deviceId}`);
      ringing = true;
      if (deviceId === failOn) {
        ringing = false;
        throw new Error(`Requested device not found: ${deviceId}`);
      }
    },
    stop() {
      events.push('stop');
      ringing = false;
    },
  };
  return { ringer: ringer as unknown as Ringer, events };
}

function createAlerts(failOn: string | null = null) {
  const { ringer, events } = createRecordingRinger(failOn);
  const shown: IncomingCallNotice[] = [];
  const closed: string[] = [];
  const errors: string[] = [];
  const bridge = {
    showIncomingCallNotification: async (notice: IncomingCallNotice) => void shown.push(notice),
    closeIncomingCallNotification: async (callId: string) => void closed.push(callId),
  } as unknown as SoftphoneBridge;
  const alerts = new IncomingCallAlerts({
    ringer,
    bridge,
    ringerDeviceId: () => 'ringer-device',
    describeCaller: (call) => ({ callId: call.id, callerName: call.remoteName, callerNumber: call.remoteNumber ?? '' }),
    onError: (message) => errors.push(message),
  });
  return { alerts, events, shown, closed, errors };
}

describe('IncomingCallAlerts', () => {
  it('rings and notifies while an inbound call rings, and stops after', () => {
    const { alerts, events, shown, closed } = createAlerts();

    alerts.update([callInfo({ state: { status: 'ringing' } })]);
    alerts.update([callInfo({ state: { status: 'ringing' } })]);
    alerts.update([callInfo({ state: { status: 'answering' } })]);

    expect(events).toEqual(['start ringer-device', 'stop']);
    expect(shown.map((notice) => notice.callId)).toEqual(['call-1']);
    expect(closed).toEqual(['call-1']);
  });

  it('does not ring for an outbound call that rings', () => {
    const { alerts, events, shown } = createAlerts();

    alerts.update([callInfo({ direction: 'outbound', state: { status: 'ringing' } })]);

    expect(events).toEqual([]);
    expect(shown).toEqual([]);
  });

  it('keeps ringing until the last of two inbound calls stops', () => {
    const { alerts, events, closed } = createAlerts();
    const first = callInfo({ state: { status: 'ringing' } });
    const second = callInfo({ id: 'call-2', state: { status: 'ringing' } });

    alerts.update([first, second]);
    alerts.update([second]);
    expect(events).toEqual(['start ringer-device']);

    alerts.stopAll();
    expect(events).toEqual(['start ringer-device', 'stop']);
    expect(closed).toEqual(['call-1', 'call-2']);
  });

  it('rings on the system default when the ringer device fails', async () => {
    const { alerts, events, errors } = createAlerts('ringer-device');

    alerts.update([callInfo({ state: { status: 'ringing' } })]);
    await expect.poll(() => events).toEqual(['start ringer-device', 'start null']);

    expect(errors).toEqual([]);
  });
});
