// Runs as a classic script in the page's head, before the main bundle, and opens
// the SIP server's WebSocket early (see ../sip/early-sip-socket.ts).
import { openEarlySipSocket } from '../sip/early-sip-socket';

try {
  openEarlySipSocket(window.localStorage);
} catch (error) {
  console.warn('Opening the early SIP WebSocket failed; the SIP transport opens its own at start-up', error);
}
