import type { UserFacingError } from '../../shared/errors';
import { StateMachine, type TransitionTable } from './state-machine';

/**
 * Registration of this softphone with the SIP registrar.
 *
 * - `unregistered` → `connecting` when a profile is available.
 * - `connecting` (WebSocket opening) → `registering` once the transport is up,
 *   or `failed` when it cannot connect.
 * - `registering` (REGISTER sent, digest challenge included) → `registered`
 *   on 200 OK, or `failed` on a final rejection or a lost transport.
 * - `registered` → `connecting` when the transport drops, `unregistering` on
 *   sign-out or quit, `failed` when a refresh REGISTER is rejected.
 * - `failed` → `connecting` for the next attempt at `retryAt`.
 * - `unregistering` → `unregistered`.
 */
export type RegistrationState =
  | { status: 'unregistered' }
  | { status: 'connecting'; server: string }
  | { status: 'registering'; server: string }
  | { status: 'registered'; server: string; since: number }
  | { status: 'failed'; error: UserFacingError; retryAt: number | null }
  | { status: 'unregistering' };

const registrationTransitions: TransitionTable<RegistrationState> = {
  unregistered: ['connecting'],
  connecting: ['registering', 'failed', 'unregistering', 'unregistered'],
  registering: ['registered', 'failed', 'connecting', 'unregistering', 'unregistered'],
  registered: ['registering', 'connecting', 'failed', 'unregistering', 'unregistered'],
  failed: ['connecting', 'unregistering', 'unregistered'],
  unregistering: ['unregistered', 'connecting'],
};

export function createRegistrationMachine(): StateMachine<RegistrationState> {
  return new StateMachine<RegistrationState>('registration', { status: 'unregistered' }, registrationTransitions);
}
