import { describe, expect, it } from 'vitest';

import { Backoff } from '../../src/shared/backoff';
import { createCallMachine } from '../../src/renderer/sip/call-state';
import { createRegistrationMachine } from '../../src/renderer/sip/registration-state';
import { InvalidTransitionError } from '../../src/renderer/sip/state-machine';

describe('registration machine', () => {
  it('follows connect, register, registered', () => {
    const machine = createRegistrationMachine();
    const seen: string[] = [];
    machine.subscribe((state) => seen.push(state.status));

    machine.transition({ status: 'connecting', server: 'a:1', proxy: 'primary' });
    machine.transition({ status: 'registering', server: 'a:1', proxy: 'primary' });
    machine.transition({ status: 'registered', server: 'a:1', proxy: 'primary', since: 1, switchBackAt: null });

    expect(seen).toEqual(['connecting', 'registering', 'registered']);
  });

  it('rejects registered straight from unregistered', () => {
    const machine = createRegistrationMachine();

    expect(() => machine.transition({ status: 'registered', server: 'a:1', proxy: 'primary', since: 1, switchBackAt: null })).toThrow(
      InvalidTransitionError,
    );
    expect(machine.state.status).toBe('unregistered');
  });

  it('replaces data on a same-status transition', () => {
    const machine = createRegistrationMachine();
    machine.transition({ status: 'connecting', server: 'a:1', proxy: 'primary' });
    const error = { code: 'X', message: 'm', action: 'a' };

    machine.transition({ status: 'failed', error, retryAt: 10 });
    machine.transition({ status: 'failed', error, retryAt: 20 });

    expect(machine.state).toEqual({ status: 'failed', error, retryAt: 20 });
  });
});

describe('call machine', () => {
  it('ends from any live state and stays ended', () => {
    for (const status of ['dialing', 'ringing', 'answering'] as const) {
      const machine = createCallMachine({ status });
      machine.transition({ status: 'ended', reason: 'failed', detail: null, endedAt: 1 });

      expect(machine.state.status).toBe('ended');
      expect(machine.can('established')).toBe(false);
    }
  });

  it('rejects answering an outbound call that is dialing', () => {
    const machine = createCallMachine({ status: 'dialing' });

    expect(() => machine.transition({ status: 'answering' })).toThrow(/dialing.*answering/);
  });
});

describe('Backoff', () => {
  it('doubles up to the cap with jitter inside [ceiling/2, ceiling]', () => {
    const low = new Backoff(1000, 8000, () => 0);
    const high = new Backoff(1000, 8000, () => 1);

    expect([1, 2, 3, 4, 5].map(() => low.nextDelayMs())).toEqual([500, 1000, 2000, 4000, 4000]);
    expect([1, 2, 3, 4, 5].map(() => high.nextDelayMs())).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff(1000, 8000, () => 1);
    backoff.nextDelayMs();
    backoff.nextDelayMs();

    backoff.reset();

    expect(backoff.nextDelayMs()).toBe(1000);
  });
});
