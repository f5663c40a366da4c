import { describe, expect, it } from 'vitest';

import { createCallMachine, isConnected, type CallState } from '../../src/renderer/sip/call-state';
import { InvalidTransitionError } from '../../src/renderer/sip/state-machine';
import { audioDirectionOf, isHeldLocally, isNegotiatedHold } from '../../src/renderer/sip/tracked-call';
import { parseSipfrag } from '../../src/renderer/sip/transfer';

describe('call machine in a call', () => {
  it('goes on hold and back', () => {
    const machine = createCallMachine({ status: 'established', establishedAt: 1 });

    machine.transition({ status: 'holding', establishedAt: 1 });
    machine.transition({ status: 'held', establishedAt: 1 });
    machine.transition({ status: 'resuming', establishedAt: 1 });
    machine.transition({ status: 'established', establishedAt: 1 });

    expect(machine.state).toEqual({ status: 'established', establishedAt: 1 });
  });

  it('returns to established when a hold fails', () => {
    const machine = createCallMachine({ status: 'holding', establishedAt: 1 });

    machine.transition({ status: 'established', establishedAt: 1 });

    expect(machine.state.status).toBe('established');
  });

  it('returns a failed transfer to held', () => {
    const machine = createCallMachine({ status: 'held', establishedAt: 1 });

    machine.transition({ status: 'transferring', establishedAt: 1, wasHeld: true, target: '101' });
    machine.transition({ status: 'held', establishedAt: 1 });

    expect(machine.state.status).toBe('held');
  });

  it('rejects holding a call that is not connected', () => {
    const machine = createCallMachine({ status: 'ringing' });

    expect(() => machine.transition({ status: 'holding', establishedAt: 1 })).toThrow(InvalidTransitionError);
  });

  it('rejects a transfer while a hold is in flight', () => {
    const machine = createCallMachine({ status: 'holding', establishedAt: 1 });

    expect(machine.can('transferring')).toBe(false);
  });
});

describe('call state helpers', () => {
  const states: CallState[] = [
    { status: 'dialing' },
    { status: 'established', establishedAt: 1 },
    { status: 'holding', establishedAt: 1 },
    { status: 'held', establishedAt: 1 },
    { status: 'resuming', establishedAt: 1 },
    { status: 'transferring', establishedAt: 1, wasHeld: true, target: 'x' },
    { status: 'transferring', establishedAt: 1, wasHeld: false, target: 'x' },
    { status: 'ended', reason: 'failed', detail: null, endedAt: 2 },
  ];

  it('tells which states are connected', () => {
    expect(states.map(isConnected)).toEqual([false, true, true, true, true, true, true, false]);
  });

  it('tells when the microphone must stay off for a hold', () => {
    expect(states.map(isHeldLocally)).toEqual([false, false, true, true, true, true, false, false]);
  });

  it('tells when the negotiated media is on hold', () => {
    expect(states.map(isNegotiatedHold)).toEqual([false, false, false, true, true, true, false, false]);
  });
});

describe('audioDirectionOf', () => {
  it('reads the audio section first, then the session', () => {
    expect(audioDirectionOf('v=0\r\na=inactive\r\nm=audio 9 RTP/AVP 0\r\na=sendonly\r\n')).toBe('sendonly');
    expect(audioDirectionOf('v=0\r\na=inactive\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n')).toBe('inactive');
    expect(audioDirectionOf('v=0\r\nm=audio 9 RTP/AVP 0\r\n')).toBe('sendrecv');
  });
});

describe('parseSipfrag', () => {
  it('reads the status line of a NOTIFY body', () => {
    expect(parseSipfrag('SIP/2.0 486 Busy Here\r\n')).toEqual({ statusCode: 486, reasonPhrase: 'Busy Here' });
    expect(parseSipfrag('SIP/2.0 100 Trying')).toEqual({ statusCode: 100, reasonPhrase: 'Trying' });
  });

  it('returns null for anything else', () => {
    expect(parseSipfrag('INVITE sip:a@b SIP/2.0')).toBeNull();
    expect(parseSipfrag('')).toBeNull();
  });
});
