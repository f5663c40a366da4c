/**
 * Runs in a plain bench page (bundled by official-sdk-page.ts): one phone line on
 * ringcentral-web-phone 2.x, the official RingCentral WebRTC SDK, behind the same
 * markup the app's UI uses for registration and calls (`.registration[data-status]`,
 * `.call-card[data-call-status]`, the "Number to call" field and the Call, Answer
 * and Hang up buttons). The bench's page marks and UI helpers then measure both
 * phones with the same selectors.
 */
import WebPhone from 'ringcentral-web-phone';
import type CallSession from 'ringcentral-web-phone/call-session/index';
import type InboundCallSession from 'ringcentral-web-phone/call-session/inbound';
import type { SipInfo } from 'ringcentral-web-phone/types';

/** Set by the bench with `page.addInitScript` before the page loads. */
export interface OfficialSdkDriverConfig {
  sipInfo: SipInfo;
}

type CardStatus = 'dialing' | 'ringing' | 'answering' | 'established';

const driverWindow = window as unknown as { __benchOfficialSdk?: OfficialSdkDriverConfig };

const registration = requireElement('.registration');
const dialer = requireElement<HTMLFormElement>('form.dialer');
const numberInput = requireElement<HTMLInputElement>('form.dialer input');
const calls = requireElement('#calls');
const alert = requireElement('#alert');

function requireElement<T extends Element = HTMLElement>(selector: string): T {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`The driver page has no element matching ${selector}`);
  return element;
}

function showError(context: string, error: unknown): void {
  const text = `${context}: ${error instanceof Error ? error.message : String(error)}`;
  alert.textContent = text;
  console.error(text);
}

function setRegistration(status: 'connecting' | 'registered' | 'failed', label: string): void {
  registration.dataset.status = status;
  registration.textContent = label;
}

/** Shows one call card per session, removed when the SDK disposes the session. */
function trackSession(session: CallSession, initial: CardStatus): void {
  const card = document.createElement('section');
  card.className = 'call-card';
  card.setAttribute('aria-label', 'Call');
  calls.append(card);
  dialer.hidden = true;

  const render = (status: CardStatus) => {
    card.dataset.callStatus = status;
    const button = document.createElement('button');
    button.type = 'button';

    if (status === 'ringing' && session.direction === 'inbound') {
      button.textContent = 'Answer';
      button.onclick = () => {
        render('answering');
        (session as InboundCallSession).answer().catch((error: unknown) => showError('Answer failed', error));
      };
    } else {
      button.textContent = 'Hang up';
      button.onclick = () => {
        session.hangup().catch((error: unknown) => showError('Hang-up failed', error));
      };
    }
    card.replaceChildren(button);
  };

  render(initial);
  session.on('answered', () => render('established'));
  session.on('failed', (reason: unknown) => showError('Call failed', reason));
  session.on('disposed', () => {
    card.remove();
    if (calls.childElementCount === 0) dialer.hidden = false;
  });
}

async function start(config: OfficialSdkDriverConfig): Promise<void> {
  const webPhone = new WebPhone({ sipInfo: config.sipInfo, autoAnswer: false, debug: false });

  webPhone.on('outboundCall', (session: CallSession) => trackSession(session, 'dialing'));
  webPhone.on('inboundCall', (session: InboundCallSession) => trackSession(session, 'ringing'));

  dialer.addEventListener('submit', (event) => {
    event.preventDefault();
    webPhone.call(numberInput.value).catch((error: unknown) => showError('Call failed', error));
  });

  setRegistration('connecting', 'Connecting…');
  await webPhone.start();
  setRegistration('registered', 'Registered');
}

const config = driverWindow.__benchOfficialSdk;
if (!config) {
  setRegistration('failed', 'Not registered');
  showError('No configuration', 'window.__benchOfficialSdk was not set before the page loaded');
} else {
  start(config).catch((error: unknown) => {
    setRegistration('failed', 'Not registered');
    showError('Registration failed', error);
  });
}
