// Runs as a classic script in the page's head, before the main bundle, and opens
// the SIP server's WebSocket early (see ../sip/early-sip-socket.ts).
import { openEarlySipSocket, pageStorage } from '../sip/early-sip-socket';

// Without storage there is no remembered server, and the SIP transport opens its socket at start-up.
const storage = pageStorage();
if (storage) openEarlySipSocket(storage);
