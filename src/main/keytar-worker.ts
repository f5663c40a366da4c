// Entry point of the keychain worker process, which runs keytar outside the main
// process. Electron starts it with `utilityProcess.fork` and Node with
// `child_process.fork`; see keytar-worker-client.ts for why it exists.
import * as keytar from 'keytar';

import { handleKeytarRequest, type KeytarResponse } from './keytar-worker-protocol';

/** `process.parentPort` of an Electron utility process, typed here so this file needs no Electron types. */
interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: KeytarResponse): void;
}

const parentPort = (process as { parentPort?: ParentPort }).parentPort;

async function reply(message: unknown, send: (response: KeytarResponse) => void): Promise<void> {
  const response = await handleKeytarRequest(keytar, message);
  if (response !== null) {
    send(response);
  }
}

if (parentPort !== undefined) {
  parentPort.on('message', (event) => void reply(event.data, (response) => parentPort.postMessage(response)));
} else if (process.send !== undefined) {
  process.on('message', (message) => void reply(message, (response) => process.send?.(response)));
  // The IPC channel closes when the parent exits.
  process.on('disconnect', () => process.exit(0));
} else {
  process.stderr.write('keytar-worker must be started by utilityProcess.fork or child_process.fork\n');
  process.exit(1);
}
