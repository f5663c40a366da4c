import type { UserFacingError } from '../../shared/errors';
import { StateMachine, type TransitionTable } from './state-machine';

/** Which of the provisioned proxies a state refers to. */
export type ProxyRole = 'primary' | 'backup';

/**
 * Registration of this softphone with the SIP registrar.
 *
 * - `unregistered` → `connecting` when a profile is available.
 * - `connecting` (WebSocket opening) → `registering` once the transport is up,
 *   or `failed` when it cannot connect.
 * - `registering` (REGISTER sent, digest challenge included) → `registered`
 *   on 200 OK, or `failed` on a final rejection or a lost transport.
 * - `registered` → `connecting` when the transport is renewed (resume from
 *   sleep, network back, switching back to the primary proxy), `failed` when
 *   the transport drops or a refresh fails, `unregistering` on sign-out or quit.
 * - `failed` → `connecting` for the next attempt at `retryAt`; `retryAt` is
 *   null while the network is offline or when only new credentials can help.
 * - `unregistering` → `unregistered`.
 */
export type RegistrationState =
  | { status: 'unregistered' }
  | { status: 'connecting'; server: string; proxy: ProxyRole }
  | { status: 'registering'; server: string; proxy: ProxyRole }
  | {
      status: 'registered';
      server: string;
      proxy: ProxyRole;
      /** Epoch ms of the first successful REGISTER of this registration. */
      since: number;
      /** Epoch ms at which the line moves back to the primary proxy; null on the primary. */
      switchBackAt: number | null;
    }
  | {
      status: 'failed';
      error: UserFacingError;
      /** Epoch ms of the next automatic attempt; null when there is none. */
      retryAt: number | null;
    }
  | { status: 'unregistering' };

const registrationTransitions: TransitionTable<RegistrationState> = {
  unregistered: ['connecting', 'failed'],
  connecting: ['registering', 'failed', 'unregistering', 'unregistered'],
  registering: ['registered', 'failed', 'connecting', 'unregistering', 'unregistered'],
  registered: ['registering', 'connecting', 'failed', 'unregistering', 'unregistered'],
  failed: ['connecting', 'unregistering', 'unregistered'],
  unregistering: ['unregistered', 'connecting'],
};

export function createRegistrationMachine(): StateMachine<RegistrationState> {
  return new StateMachine<RegistrationState>('registration', { status: 'unregistered' }, registrationTransitions);
}
