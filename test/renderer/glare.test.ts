import { SessionState, type Session } from 'sip.js';
import { describe, expect, it, vi } from 'vitest';

import {
  endsDialog,
  MAX_REINVITE_RETRIES,
  rejectCrossingReinvites,
  requestPendingRetryDelayMs,
  sendReinvite,
} from '../../src/renderer/sip/glare';

describe('requestPendingRetryDelayMs', () => {
  it('gives the Call-ID owner 2.1 s to 4 s in 10 ms steps', () => {
    expect(requestPendingRetryDelayMs(true, () => 0)).toBe(2100);
    expect(requestPendingRetryDelayMs(true, () => 0.999999)).toBe(4000);
    expect(requestPendingRetryDelayMs(true, () => 0.5) % 10).toBe(0);
  });

  it('gives the other end 0 s to 2 s in 10 ms steps', () => {
    expect(requestPendingRetryDelayMs(false, () => 0)).toBe(0);
    expect(requestPendingRetryDelayMs(false, () => 0.999999)).toBe(2000);
    expect(requestPendingRetryDelayMs(false, () => 0.37) % 10).toBe(0);
  });
});

interface ScriptedResponse {
  statusCode: number;
  reasonPhrase: string;
  retryAfter?: string;
}

/**
 * Builds a stand-in sip.js session whose re-INVITEs get the scripted final
 * responses in turn. The entry `'incoming-open'` opens a re-INVITE from the
 * other end on the dialog and fails the send, as sip.js does in that case.
 * Setting `dialog.reinviteUserAgentServer` to undefined closes it again.
 */
function scriptedSession(responses: Array<ScriptedResponse | 'incoming-open'>) {
  const listeners = new Set<(state: SessionState) => void>();
  const offers: unknown[] = [];
  const dialog: { reinviteUserAgentServer: unknown } = { reinviteUserAgentServer: undefined };
  const session = {
    state: SessionState.Established,
    dialog,
    stateChange: {
      addListener: (listener: (state: SessionState) => void) => listeners.add(listener),
      removeListener: (listener: (state: SessionState) => void) => listeners.delete(listener),
    },
    invite(options: {
      sessionDescriptionHandlerOptions: unknown;
      requestDelegate: { onAccept(response: unknown): void; onReject(response: unknown): void };
    }) {
      offers.push(options.sessionDescriptionHandlerOptions);
      const next = responses.shift();
      if (!next) return Promise.reject(new Error('no scripted response left'));
      if (next === 'incoming-open') {
        dialog.reinviteUserAgentServer = {};
        return Promise.reject(new Error('There is an ongoing re-INVITE server transaction.'));
      }

      const message = {
        statusCode: next.statusCode,
        reasonPhrase: next.reasonPhrase,
        getHeader: (name: string) => (name === 'Retry-After' ? next.retryAfter : undefined),
      };
      queueMicrotask(() => {
        if (next.statusCode < 300) options.requestDelegate.onAccept({ message });
        else options.requestDelegate.onReject({ message });
      });
      return Promise.resolve();
    },
  };
  return {
    session: session as unknown as Session,
    offers,
    dialog,
    end: () => (session.state = SessionState.Terminated),
  };
}

describe('sendReinvite', () => {
  const options = { hold: true };

  it('retries after 491 with the RFC 3261 delay and succeeds', async () => {
    const { session, offers } = scriptedSession([
      { statusCode: 491, reasonPhrase: 'Request Pending' },
      { statusCode: 200, reasonPhrase: 'OK' },
    ]);
    const waits: number[] = [];

    const outcome = await sendReinvite(session, options, {
      ownsCallId: true,
      random: () => 0.5,
      sleep: async (milliseconds) => void waits.push(milliseconds),
    });

    expect(outcome).toEqual({ ok: true });
    expect(waits).toEqual([requestPendingRetryDelayMs(true, () => 0.5)]);
    expect(offers).toEqual([options, options]);
  });

  it('stops retrying once superseded', async () => {
    const { session, offers } = scriptedSession([
      { statusCode: 491, reasonPhrase: 'Request Pending' },
      { statusCode: 200, reasonPhrase: 'OK' },
    ]);
    let pathUp = false;

    const outcome = await sendReinvite(session, options, {
      ownsCallId: true,
      // The other end's re-INVITE mends the path during the wait.
      sleep: async () => void (pathUp = true),
      superseded: () => pathUp,
    });

    expect(outcome).toEqual({ ok: true });
    expect(offers).toEqual([options]);
  });

  it('does not retry other rejections', async () => {
    const { session } = scriptedSession([{ statusCode: 488, reasonPhrase: 'Not Acceptable Here' }]);
    const waits: number[] = [];

    const outcome = await sendReinvite(session, options, { ownsCallId: false, sleep: async (ms) => void waits.push(ms) });

    expect(outcome).toEqual({ ok: false, statusCode: 488, reason: '488 Not Acceptable Here' });
    expect(waits).toEqual([]);
  });

  it('honours Retry-After on a 500', async () => {
    const { session } = scriptedSession([
      { statusCode: 500, reasonPhrase: 'Server Internal Error', retryAfter: '3' },
      { statusCode: 200, reasonPhrase: 'OK' },
    ]);
    const waits: number[] = [];

    await expect(sendReinvite(session, options, { ownsCallId: false, sleep: async (ms) => void waits.push(ms) })).resolves.toEqual({
      ok: true,
    });
    expect(waits).toEqual([3000]);
  });

  it('retries a 480 while the other end re-registers', async () => {
    const { session } = scriptedSession([
      { statusCode: 480, reasonPhrase: 'Temporarily Unavailable' },
      { statusCode: 480, reasonPhrase: 'Temporarily Unavailable', retryAfter: '5' },
      { statusCode: 200, reasonPhrase: 'OK' },
    ]);
    const waits: number[] = [];

    await expect(sendReinvite(session, options, { ownsCallId: true, sleep: async (ms) => void waits.push(ms) })).resolves.toEqual({
      ok: true,
    });
    expect(waits).toEqual([2000, 5000]);
  });

  it('gives up after the last retry', async () => {
    const pending = { statusCode: 491, reasonPhrase: 'Request Pending' };
    const { session, offers } = scriptedSession(Array.from({ length: MAX_REINVITE_RETRIES + 2 }, () => ({ ...pending })));

    const outcome = await sendReinvite(session, options, { ownsCallId: false, sleep: async () => undefined });

    expect(outcome).toEqual({ ok: false, statusCode: 491, reason: '491 Request Pending' });
    expect(offers).toHaveLength(MAX_REINVITE_RETRIES + 1);
  });

  it('waits for an open incoming re-INVITE', async () => {
    const { session, offers, dialog } = scriptedSession([{ statusCode: 200, reasonPhrase: 'OK' }]);
    dialog.reinviteUserAgentServer = {};
    const waits: number[] = [];
    const sleep = async (milliseconds: number) => {
      waits.push(milliseconds);
      if (waits.length === 3) dialog.reinviteUserAgentServer = undefined;
    };

    const outcome = await sendReinvite(session, options, { ownsCallId: true, sleep });

    expect(outcome).toEqual({ ok: true });
    expect(waits).toEqual([50, 50, 50]);
    expect(offers).toHaveLength(1);
  });

  it('gives up on an incoming re-INVITE without ACK', async () => {
    const { session, offers, dialog } = scriptedSession([{ statusCode: 200, reasonPhrase: 'OK' }]);
    dialog.reinviteUserAgentServer = {};
    let waited = 0;
    const sleep = async (milliseconds: number) => void (waited += milliseconds);

    const outcome = await sendReinvite(session, options, { ownsCallId: true, sleep });

    expect(outcome).toMatchObject({ ok: false, statusCode: null, dialogLost: true });
    expect(endsDialog(outcome)).toBe(true);
    expect(waited).toBe(32_000);
    expect(offers).toHaveLength(0);
  });

  it('sends again after an incoming re-INVITE crossed it', async () => {
    const { session, offers, dialog } = scriptedSession(['incoming-open', { statusCode: 200, reasonPhrase: 'OK' }]);
    const sleep = async () => void (dialog.reinviteUserAgentServer = undefined);

    const outcome = await sendReinvite(session, options, { ownsCallId: false, sleep });

    expect(outcome).toEqual({ ok: true });
    expect(offers).toHaveLength(2);
  });

  it('stops when the call ends during an incoming re-INVITE', async () => {
    const { session, offers, dialog, end } = scriptedSession([{ statusCode: 200, reasonPhrase: 'OK' }]);
    dialog.reinviteUserAgentServer = {};

    const outcome = await sendReinvite(session, options, { ownsCallId: false, sleep: async () => void end() });

    expect(outcome).toEqual({ ok: false, statusCode: null, reason: 'the call ended' });
    expect(offers).toHaveLength(0);
  });

  it('stops when the call ends during the wait', async () => {
    const { session, offers, end } = scriptedSession([
      { statusCode: 491, reasonPhrase: 'Request Pending' },
      { statusCode: 200, reasonPhrase: 'OK' },
    ]);

    const outcome = await sendReinvite(session, options, { ownsCallId: false, sleep: async () => void end() });

    expect(outcome).toEqual({ ok: false, statusCode: null, reason: 'the call ended' });
    expect(offers).toHaveLength(1);
  });
});

describe('endsDialog', () => {
  it('is true for 481 and a lost dialog', () => {
    expect(endsDialog({ ok: false, statusCode: 481, reason: '481 Call/Transaction Does Not Exist' })).toBe(true);
    expect(endsDialog({ ok: false, statusCode: null, reason: 'no ACK', dialogLost: true })).toBe(true);
  });

  it('is false for other outcomes', () => {
    expect(endsDialog({ ok: true })).toBe(false);
    expect(endsDialog({ ok: false, statusCode: 408, reason: '408 Request Timeout' })).toBe(false);
    expect(endsDialog({ ok: false, statusCode: 491, reason: '491 Request Pending' })).toBe(false);
    expect(endsDialog({ ok: false, statusCode: 480, reason: '480 Temporarily Unavailable' })).toBe(false);
    expect(endsDialog({ ok: false, statusCode: null, reason: 'the call ended' })).toBe(false);
  });
});

describe('rejectCrossingReinvites', () => {
  /** A stand-in session whose own INVITE handler records what reached it, and whose re-INVITE waits for `respond`. */
  function sessionWithInviteHandler() {
    const processed: string[] = [];
    let respond: (() => void) | undefined;
    const { session } = scriptedSession([]);
    Object.assign(session, {
      onInviteRequest(request: { id: string }) {
        processed.push(request.id);
      },
      invite(options: { requestDelegate: { onAccept(response: unknown): void } }) {
        respond = () => options.requestDelegate.onAccept({ message: { statusCode: 200, reasonPhrase: 'OK', getHeader: () => undefined } });
        return Promise.resolve();
      },
    });
    return { session, processed, invited: () => respond !== undefined, respond: () => respond?.() };
  }

  function incomingReinvite(id: string) {
    const rejected: number[] = [];
    return { request: { id, reject: ({ statusCode }: { statusCode: number }) => rejected.push(statusCode) }, rejected };
  }

  it('answers 491 only while its own re-INVITE is open', async () => {
    const { session, processed, invited, respond } = sessionWithInviteHandler();
    rejectCrossingReinvites(session);
    const deliver = (request: unknown) => (session as unknown as { onInviteRequest(request: unknown): void }).onInviteRequest(request);

    const before = incomingReinvite('before');
    deliver(before.request);
    expect(processed).toEqual(['before']);
    expect(before.rejected).toEqual([]);

    const sending = sendReinvite(session, { hold: true }, { ownsCallId: true, sleep: async () => undefined });
    await vi.waitFor(() => expect(invited()).toBe(true));
    const crossing = incomingReinvite('crossing');
    deliver(crossing.request);
    expect(crossing.rejected).toEqual([491]);
    expect(processed).toEqual(['before']);

    respond();
    await expect(sending).resolves.toEqual({ ok: true });
    const after = incomingReinvite('after');
    deliver(after.request);
    expect(processed).toEqual(['before', 'after']);
    expect(after.rejected).toEqual([]);
  });
});
