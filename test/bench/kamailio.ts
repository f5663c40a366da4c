import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { getFreeTcpPorts } from './free-port';

/** A digest user of the bench registrar, shaped like RingCentral's SIP provisioning. */
export interface BenchSipUser {
  /** Digest user name, a device id such as "802500000101". */
  authorizationId: string;
  /** Digest password: printable ASCII, stored in plain text in the instance's folder while Kamailio runs. */
  password: string;
  /** User part of the AOR in From and To, a phone number such as "15550000101". */
  username: string;
}

export interface KamailioOptions {
  /** SIP domain and digest realm, for example "sip.bench.test". Kamailio treats it as local without DNS. */
  domain: string;
  users: BenchSipUser[];
  /** Upper limit of a registration in seconds (default 600). A longer request is lowered to it. */
  maxExpires?: number;
  /** Lower limit in seconds (default 60). A shorter REGISTER gets 423 with Min-Expires, and 0 turns the check off. */
  minExpires?: number;
  /** Expiry in seconds for a REGISTER that gives none (default: maxExpires). */
  defaultExpires?: number;
  /**
   * Turns on the OFFICIAL_SDK_COMPAT define of kamailio.cfg: routing that lets
   * ringcentral-web-phone 2.x place and receive calls despite its departures
   * from RFC 3261. Only the comparison benchmark sets it (default false).
   */
  officialSdkCompat?: boolean;
  /**
   * Removes a contact as soon as its WebSocket connection closes (default true).
   * False keeps it until it expires, so a client that restarts without
   * unregistering leaves its old contact behind unless it reuses its instance id.
   */
  removeContactsOnLostConnection?: boolean;
}

/** One binding of an AOR as the registrar stores it. */
export interface ContactRecord {
  address: string;
  /** Seconds until the binding expires. */
  expires: number;
  /** CSeq of the REGISTER that last updated the binding; a successful refresh raises it. */
  cseq: number;
  callId: string;
}

/** A fault the registrar applies to every REGISTER until it is cleared. */
export type RegisterFault = { reply: number } | { drop: true };

/** A running Kamailio registrar and proxy on 127.0.0.1. */
export interface KamailioServer {
  /** SIP over WebSocket, e.g. "ws://127.0.0.1:40123". */
  readonly wsUrl: string;
  /** SIP over secure WebSocket with a self-signed certificate, e.g. "wss://127.0.0.1:40124". */
  readonly wssUrl: string;
  /** "127.0.0.1:<wss port>", in the form of RingCentral's outboundProxy field. */
  readonly wssHostPort: string;
  readonly domain: string;
  /** Sends SIGTERM and waits for the exit, with SIGKILL after 3 s. Does nothing when stopped. */
  stop(): Promise<void>;
  /** Kills every Kamailio process with SIGKILL and waits for the exit, as a crash would. */
  kill(): Promise<void>;
  /**
   * Starts Kamailio again on the same ports after stop() or kill() and waits until
   * the ws and wss ports accept TCP connections. Registrations do not survive a restart.
   */
  start(): Promise<void>;
  /** Returns the contact URIs registered for an AOR such as "sip:15550000101@sip.bench.test", [] when none. */
  contacts(aor: string): Promise<string[]>;
  /** Returns what Kamailio has printed so far across restarts (the last 1 MB), with a `--- bench:` line at each start and exit. */
  log(): string;
  /** Returns the bindings of an AOR with their expiry and CSeq, [] when none. */
  contactRecords(aor: string): Promise<ContactRecord[]>;
  /** Responds to every REGISTER with `fault.reply`, or sends no response at all; null clears it. Lost on restart. */
  setRegisterFault(fault: RegisterFault | null): Promise<void>;
  /** Challenges the next REGISTER that carries valid credentials once more, with stale=true. */
  staleNonceOnce(): Promise<void>;
  /**
   * Sends an out-of-dialog NOTIFY with `Event: <event>` from Kamailio to every
   * contact of `aor` and returns the status of each final response.
   */
  sendNotify(aor: string, event: string): Promise<number[]>;
  /** Number of REGISTER requests received since the first start. */
  registerCount(): number;
}

const CONFIG_PATH = fileURLToPath(new URL('./kamailio.cfg', import.meta.url));

const DEFAULT_MAX_EXPIRES = 600;
const DEFAULT_MIN_EXPIRES = 60;

const READY_TIMEOUT_MS = 5_000;
const PORT_POLL_INTERVAL_MS = 50;
const TERM_TIMEOUT_MS = 3_000;
const CHILDREN_EXIT_TIMEOUT_MS = 1_000;
const KILL_TIMEOUT_MS = 2_000;
const RPC_TIMEOUT_MS = 3_000;
/**
 * Timeout of an RPC that waits for a SIP transaction (tm.t_uac_wait_block): longer
 * than the config's fr_timer of 5 s, so a client that answers slowly under load
 * ends as its SIP reply or a 408 instead of an RPC timeout.
 */
const TRANSACTION_RPC_TIMEOUT_MS = 8_000;

/** Fresh ports are tried this often when another process takes a port before Kamailio binds it. */
const START_ATTEMPTS = 3;
const LOG_MAX_CHARS = 1_000_000;
const LOG_TAIL_LINES = 40;

const SIP_USER_PATTERN = /^[A-Za-z0-9._~+-]+$/;
const DOMAIN_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const PRINTABLE_ASCII_PATTERN = /^[\x20-\x7e]+$/;

/**
 * Kills the Kamailio process group and removes the instance folder when the test
 * process dies without running its exit handlers, as vitest workers do. The
 * watchdog blocks reading its stdin, a pipe whose only writer is the test
 * process, so the read returns as soon as that process is gone. SIGTERM is no
 * use then: Kamailio 5.6 spins on SIGPIPE once its stderr pipe has no reader.
 * Arguments: $1 Kamailio's pid (also its process group id), $2 the folder.
 */
const WATCHDOG_SCRIPT = 'read -r _line; kill -KILL "-$1" 2>/dev/null; rm -rf -- "$2"';

const execFileAsync = promisify(execFile);

const runningServers = new Set<KamailioProcess>();
let exitHookInstalled = false;

interface RunningProcess {
  pid: number;
  /** Resolves with a description of how the main process ended. */
  exited: Promise<string>;
  /** Resolves once the process has exited and its folder is removed. */
  finished: Promise<void>;
  watchdog: ChildProcess;
}

/**
 * Starts Kamailio as registrar and proxy for WebSocket SIP clients, with its own
 * folder, ports and certificate, and waits until it accepts connections.
 */
export async function startKamailio(options: KamailioOptions): Promise<KamailioServer> {
  const settings = validateOptions(options);
  installExitHook();

  // The folder exists only while Kamailio runs, because start() fills it and the exit removes it.
  const folder = await mkdtemp(join(tmpdir(), 'bench-kamailio-'));
  if (/["\\\n]/.test(folder)) {
    await rm(folder, { recursive: true, force: true });
    throw new Error(`Temporary folder ${JSON.stringify(folder)} cannot be passed as a Kamailio define. Set TMPDIR to a plain path.`);
  }

  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const [wsPort, wssPort, rpcPort] = (await getFreeTcpPorts(3)) as [number, number, number];
    const server = new KamailioProcess(folder, settings, wsPort, wssPort, rpcPort);
    try {
      await server.start();
      return server;
    } catch (error) {
      lastError = error;
      if (!server.log().includes('Address already in use')) {
        break;
      }
    }
  }
  throw lastError;
}

interface Settings {
  domain: string;
  users: BenchSipUser[];
  maxExpires: number;
  minExpires: number;
  defaultExpires: number;
  officialSdkCompat: boolean;
  removeContactsOnLostConnection: boolean;
}

function validateOptions(options: KamailioOptions): Settings {
  if (!DOMAIN_PATTERN.test(options.domain)) {
    throw new Error(`Invalid SIP domain ${JSON.stringify(options.domain)}: use a host name such as "sip.bench.test".`);
  }

  const seenAuthorizationIds = new Set<string>();
  for (const user of options.users) {
    for (const field of ['authorizationId', 'username'] as const) {
      if (!SIP_USER_PATTERN.test(user[field])) {
        throw new Error(`Invalid ${field} ${JSON.stringify(user[field])}: use letters, digits and . _ ~ + - only.`);
      }
    }
    if (!PRINTABLE_ASCII_PATTERN.test(user.password)) {
      throw new Error(`Invalid password for ${user.authorizationId}: use 1 or more printable ASCII characters.`);
    }
    if (seenAuthorizationIds.has(user.authorizationId)) {
      throw new Error(`Duplicate authorizationId ${user.authorizationId}: give each digest user its own id.`);
    }
    seenAuthorizationIds.add(user.authorizationId);
  }

  const maxExpires = options.maxExpires ?? DEFAULT_MAX_EXPIRES;
  const minExpires = options.minExpires ?? DEFAULT_MIN_EXPIRES;
  const defaultExpires = options.defaultExpires ?? maxExpires;
  const limits = { maxExpires, minExpires, defaultExpires };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`Invalid ${name} ${value}: use a whole number of seconds, 0 or more.`);
    }
  }
  if (maxExpires < 1 || minExpires > maxExpires || defaultExpires < minExpires || defaultExpires > maxExpires) {
    throw new Error(
      `Invalid expiry limits ${JSON.stringify(limits)}: expected 1 <= maxExpires and minExpires <= defaultExpires <= maxExpires.`,
    );
  }

  return {
    domain: options.domain,
    users: options.users,
    ...limits,
    officialSdkCompat: options.officialSdkCompat ?? false,
    removeContactsOnLostConnection: options.removeContactsOnLostConnection ?? true,
  };
}

/** Writes the db_text tables that auth_db reads. The extra column `aor` contains the From/To user. */
async function writeSubscriberTable(folder: string, settings: Settings): Promise<void> {
  const dbFolder = join(folder, 'db');
  await mkdir(dbFolder, { recursive: true });

  // auth_db treats the table as missing unless `version` lists it with version 7 (Kamailio 5.6).
  await writeFile(join(dbFolder, 'version'), 'table_name(string) table_version(int)\nsubscriber:7\n');

  const header = 'id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null) aor(string)';
  const rows = settings.users.map(
    (user, index) =>
      `${index + 1}:${user.authorizationId}:${settings.domain}:${escapeDbTextValue(user.password)}:::${user.username}`,
  );
  await writeFile(join(dbFolder, 'subscriber'), [header, ...rows].join('\n') + '\n', { mode: 0o600 });
}

/** Escapes a db_text field, whose values are separated by ':' and escaped with '\'. */
function escapeDbTextValue(value: string): string {
  return value.replace(/[\\:]/g, (character) => `\\${character}`);
}

/** Creates a self-signed P-256 certificate for 127.0.0.1, which browsers accept with ignoreHTTPSErrors. */
export async function createCertificate(folder: string): Promise<void> {
  await execFileAsync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(folder, 'key.pem'), '-out', join(folder, 'cert.pem'),
    ],
    { cwd: folder },
  );
}

function installExitHook(): void {
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;

  // Only synchronous work is possible here. The watchdog also fires once this process is gone.
  process.on('exit', () => {
    for (const server of runningServers) {
      server.killSynchronously();
    }
  });
}

class KamailioProcess implements KamailioServer {
  readonly wsUrl: string;
  readonly wssUrl: string;
  readonly wssHostPort: string;
  readonly domain: string;

  private readonly args: string[];
  private logText = '';
  private running: RunningProcess | undefined;
  private previousRunFinished: Promise<void> = Promise.resolve();

  constructor(
    private readonly folder: string,
    private readonly settings: Settings,
    private readonly wsPort: number,
    private readonly wssPort: number,
    private readonly rpcPort: number,
  ) {
    this.wsUrl = `ws://127.0.0.1:${wsPort}`;
    this.wssUrl = `wss://127.0.0.1:${wssPort}`;
    this.wssHostPort = `127.0.0.1:${wssPort}`;
    this.domain = settings.domain;

    const defines = {
      WS_PORT: String(wsPort),
      WSS_PORT: String(wssPort),
      RPC_PORT: String(rpcPort),
      SIP_DOMAIN: `"${settings.domain}"`,
      DB_URL: `"text://${join(folder, 'db')}"`,
      TLS_CERT: `"${join(folder, 'cert.pem')}"`,
      TLS_KEY: `"${join(folder, 'key.pem')}"`,
      MIN_EXPIRES: String(settings.minExpires),
      MAX_EXPIRES: String(settings.maxExpires),
      DEFAULT_EXPIRES: String(settings.defaultExpires),
      HANDLE_LOST_TCP: settings.removeContactsOnLostConnection ? '1' : '0',
      ...(settings.officialSdkCompat ? { OFFICIAL_SDK_COMPAT: '1' } : {}),
    };
    // -DD keeps the main process in the foreground, -E logs to stderr, and -Y
    // and -P keep the runtime files in this instance's folder.
    this.args = [
      '-DD', '-E', '-f', CONFIG_PATH,
      '-Y', join(folder, 'run'), '-P', join(folder, 'run', 'kamailio.pid'), '-w', folder,
      ...Object.entries(defines).flatMap(([name, value]) => ['-A', `${name}=${value}`]),
    ];
  }

  async start(): Promise<void> {
    if (this.running) {
      throw new Error(`Kamailio is already running as pid ${this.running.pid} on ${this.wsUrl}. Call stop() first.`);
    }

    await this.previousRunFinished;
    await mkdir(join(this.folder, 'run'), { recursive: true });
    await writeSubscriberTable(this.folder, this.settings);
    await createCertificate(this.folder);
    this.appendLog(`--- bench: starting kamailio on ${this.wsUrl} and ${this.wssUrl}\n`);

    // detached: Kamailio leads its own process group, so kill() reaches all its processes.
    const child = spawn('kamailio', this.args, { cwd: this.folder, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.appendLog(chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.appendLog(chunk));
    const exited = new Promise<string>((resolve) => {
      child.once('error', (error) => resolve(`could not be started: ${error.message}`));
      child.once('exit', (code, signal) => resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    });
    if (child.pid === undefined) {
      const status = await exited;
      await rm(this.folder, { recursive: true, force: true });
      throw new Error(`Kamailio ${status}. Is the kamailio package installed?`);
    }

    const watchdog = startWatchdog(child.pid, this.folder);
    const finished = exited.then(async (status) => {
      this.appendLog(`--- bench: kamailio ${status}\n`);
      stopWatchdog(watchdog);
      runningServers.delete(this);
      if (this.running?.pid === child.pid) {
        this.running = undefined;
      }
      await rm(this.folder, { recursive: true, force: true });
    });
    const running: RunningProcess = { pid: child.pid, exited, finished, watchdog };
    this.running = running;
    this.previousRunFinished = finished;
    runningServers.add(this);

    await this.waitUntilReady(running);
  }

  async stop(): Promise<void> {
    const running = this.running;
    if (!running) {
      return;
    }
    stopWatchdog(running.watchdog);

    // On SIGTERM the main process stops and reaps its children, then exits (within about 300 ms).
    signalProcess(running.pid, 'SIGTERM');
    if (!(await settlesWithin(running.exited, TERM_TIMEOUT_MS))) {
      this.appendLog(`--- bench: no exit ${TERM_TIMEOUT_MS} ms after SIGTERM, sending SIGKILL\n`);
      await this.killGroup(running);
    }
    await running.finished;
  }

  async kill(): Promise<void> {
    const running = this.running;
    if (!running) {
      return;
    }
    stopWatchdog(running.watchdog);
    await this.killGroup(running);
    await running.finished;
  }

  async contacts(aor: string): Promise<string[]> {
    // usrloc keys records by the user part alone (use_domain 0), and ul.lookup
    // matches that key literally: "sip:user@domain" would never be found.
    const response = await this.callRpc('ul.lookup', ['location', this.userPartOf(aor)]);
    if (response.error) {
      // Kamailio 5.6 reports an unknown AOR as "AOR not found in location table"
      // and one whose contacts were all removed or expired as "AOR has no contacts".
      if (/AOR not found|AOR has no contacts/i.test(response.error.message)) {
        return [];
      }
      throw new Error(`JSON-RPC ul.lookup for ${aor} failed: ${response.error.code} ${response.error.message}`);
    }
    return parseLookupContacts(response.result, aor);
  }

  log(): string {
    return this.logText;
  }

  async contactRecords(aor: string): Promise<ContactRecord[]> {
    const response = await this.callRpc('ul.lookup', ['location', this.userPartOf(aor)]);
    if (response.error) {
      if (/AOR not found|AOR has no contacts/i.test(response.error.message)) return [];
      throw new Error(`JSON-RPC ul.lookup for ${aor} failed: ${response.error.code} ${response.error.message}`);
    }
    const contacts = (response.result as { Contacts?: Array<{ Contact?: Record<string, unknown> }> }).Contacts ?? [];
    return contacts.map(({ Contact: contact }) => ({
      address: String(contact?.['Address']),
      expires: Number(contact?.['Expires']),
      cseq: Number(contact?.['CSeq']),
      callId: String(contact?.['Call-ID']),
    }));
  }

  async setRegisterFault(fault: RegisterFault | null): Promise<void> {
    const reply = fault !== null && 'reply' in fault ? fault.reply : 0;
    const drop = fault !== null && 'drop' in fault ? 1 : 0;
    if (reply !== 0 && !(Number.isInteger(reply) && reply >= 300 && reply <= 699)) {
      throw new Error(`Invalid REGISTER fault reply ${reply}: use a SIP error status from 300 to 699.`);
    }
    await this.setSharedVariable('register_reply', reply);
    await this.setSharedVariable('register_drop', drop);
  }

  async staleNonceOnce(): Promise<void> {
    await this.setSharedVariable('stale_nonce_once', 1);
  }

  async sendNotify(aor: string, event: string): Promise<number[]> {
    const lookup = await this.callRpc('ul.lookup', ['location', this.userPartOf(aor)]);
    if (lookup.error) {
      throw new Error(`JSON-RPC ul.lookup for ${aor} failed: ${lookup.error.code} ${lookup.error.message}`);
    }
    const contacts = (
      lookup.result as { Contacts?: Array<{ Contact?: { Address?: string; Received?: string; Socket?: string } }> }
    ).Contacts;

    const statuses: number[] = [];
    for (const { Contact: contact } of contacts ?? []) {
      if (contact?.Address === undefined) continue;
      const headers =
        // t_uac adds the From tag itself.
        `From: <sip:bench@${this.domain}>\r\n` +
        `To: <${aor}>\r\n` +
        `Event: ${event}\r\n` +
        'Subscription-State: terminated\r\n' +
        'Content-Length: 0\r\n';
      const nextHop = contact.Received !== undefined && contact.Received !== '' ? contact.Received : '.';
      // The NOTIFY leaves from the listening socket the REGISTER came in on, so its Via names the WSS socket.
      const socket = contact.Socket !== undefined && contact.Socket !== '' ? contact.Socket : '.';
      const response = await this.callRpc(
        'tm.t_uac_wait_block',
        ['NOTIFY', contact.Address, nextHop, socket, headers],
        TRANSACTION_RPC_TIMEOUT_MS,
      );
      if (response.error) {
        throw new Error(`JSON-RPC tm.t_uac_wait_block NOTIFY to ${contact.Address} failed: ${response.error.code} ${response.error.message}`);
      }
      statuses.push(parseReplyStatus(response.result));
    }
    return statuses;
  }

  registerCount(): number {
    return (this.logText.match(/request REGISTER /g) ?? []).length;
  }

  private async setSharedVariable(name: string, value: number): Promise<void> {
    const response = await this.callRpc('pv.shvSet', [name, 'int', value]);
    if (response.error) {
      throw new Error(`JSON-RPC pv.shvSet ${name} failed: ${response.error.code} ${response.error.message}`);
    }
  }

  private userPartOf(aor: string): string {
    const match = /^(?:sips?:)?([^@:;]+)(?:@([^;]+))?$/.exec(aor);
    if (!match) {
      throw new Error(`Invalid AOR ${JSON.stringify(aor)}: expected "sip:user@${this.domain}" or "user".`);
    }
    const [, user, domain] = match;
    if (domain !== undefined && domain.toLowerCase() !== this.domain.toLowerCase()) {
      throw new Error(`AOR ${aor} is outside the bench domain ${this.domain}, so it cannot have contacts here.`);
    }
    return user!;
  }

  /** Kills the process group and removes the folder without waiting, for the process exit handler. */
  killSynchronously(): void {
    const running = this.running;
    if (running) {
      stopWatchdog(running.watchdog);
      signalProcess(-running.pid, 'SIGKILL');
      rmSync(this.folder, { recursive: true, force: true });
    }
  }

  /**
   * Kills the children first, so that the main process reaps them and exits on
   * its own, then the whole group. Once the main process has exited, no child
   * keeps a port open. Children of a main process killed first would become
   * orphans and stay zombies until PID 1 reaps them.
   */
  private async killGroup(running: RunningProcess): Promise<void> {
    for (const pid of listProcessGroup(running.pid)) {
      if (pid !== running.pid) {
        signalProcess(pid, 'SIGKILL');
      }
    }
    if (!(await settlesWithin(running.exited, CHILDREN_EXIT_TIMEOUT_MS))) {
      signalProcess(-running.pid, 'SIGKILL');
    }
    if (!(await settlesWithin(running.exited, KILL_TIMEOUT_MS))) {
      throw new Error(`Kamailio pid ${running.pid} did not exit ${KILL_TIMEOUT_MS} ms after SIGKILL.\n${this.logTail()}`);
    }
    // Any process still in the group has no parent left to wait for it.
    signalProcess(-running.pid, 'SIGKILL');
  }

  private async waitUntilReady(running: RunningProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exitStatus: string | undefined;
    void running.exited.then((status) => {
      exitStatus = status;
    });

    while (Date.now() < deadline) {
      if (exitStatus !== undefined) {
        await running.finished;
        throw new Error(`Kamailio ${exitStatus} before accepting connections on ${this.wsUrl}.\n${this.logTail()}`);
      }
      if ((await acceptsConnections(this.wsPort)) && (await acceptsConnections(this.wssPort)) && (await acceptsConnections(this.rpcPort))) {
        return;
      }
      await delay(PORT_POLL_INTERVAL_MS);
    }

    await this.kill();
    throw new Error(
      `Kamailio did not accept connections on ports ${this.wsPort}, ${this.wssPort} and ${this.rpcPort} within ${READY_TIMEOUT_MS} ms.\n${this.logTail()}`,
    );
  }

  /**
   * Posts one JSON-RPC request on a connection of its own. Kamailio's xhttp
   * closes the connection after each reply, and `fetch` sometimes sent the next
   * request on such a closed keep-alive connection ("fetch failed", about once
   * in 200 calls here).
   */
  private callRpc(method: string, params: unknown[], timeoutMs = RPC_TIMEOUT_MS): Promise<JsonRpcResponse> {
    const url = `http://127.0.0.1:${this.rpcPort}/RPC`;
    const body = JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 });

    return new Promise((resolve, reject) => {
      const fail = (reason: string) => reject(new Error(`JSON-RPC ${method} to ${url} failed: ${reason}. Is Kamailio running?`));
      const request = httpRequest(
        url,
        {
          method: 'POST',
          agent: false,
          timeout: timeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('error', (error) => fail(error.message));
          response.on('end', () => {
            try {
              resolve(JSON.parse(text) as JsonRpcResponse);
            } catch {
              reject(new Error(`JSON-RPC ${method} to ${url} returned HTTP ${response.statusCode} with invalid JSON: ${text.slice(0, 200)}`));
            }
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no response within ${timeoutMs} ms`)));
      request.on('error', (error) => fail(error.message));
      request.end(body);
    });
  }

  private appendLog(text: string): void {
    this.logText += text;
    if (this.logText.length > LOG_MAX_CHARS) {
      this.logText = this.logText.slice(-LOG_MAX_CHARS);
    }
  }

  private logTail(): string {
    return `Last lines of the Kamailio log:\n${this.logText.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n')}`;
  }
}

interface JsonRpcResponse {
  result?: unknown;
  error?: { code: number; message: string };
}

/** Reads the status code from a tm.t_uac_wait_block result: an object with `code`, or a "200 OK" string. */
function parseReplyStatus(result: unknown): number {
  const code = typeof result === 'string' ? Number.parseInt(result, 10) : Number((result as { code?: unknown })?.code);
  if (!Number.isInteger(code)) {
    throw new Error(`JSON-RPC tm.t_uac_wait_block returned no status code: ${JSON.stringify(result)}`);
  }
  return code;
}

/**
 * Reads the contact URIs from an ul.lookup result, which Kamailio 5.6 shapes as
 * { AoR, Contacts: [{ Contact: { Address, Expires, ... } }] }.
 */
function parseLookupContacts(result: unknown, aor: string): string[] {
  const contacts = (result as { Contacts?: unknown } | undefined)?.Contacts;
  if (!Array.isArray(contacts)) {
    throw new Error(`JSON-RPC ul.lookup for ${aor} returned no Contacts list: ${JSON.stringify(result)}`);
  }
  return contacts.map((entry: unknown) => {
    const address = (entry as { Contact?: { Address?: unknown } }).Contact?.Address;
    if (typeof address !== 'string') {
      throw new Error(`JSON-RPC ul.lookup for ${aor} returned a contact without Address: ${JSON.stringify(entry)}`);
    }
    return address;
  });
}

function startWatchdog(kamailioPid: number, folder: string): ChildProcess {
  const watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'kamailio-watchdog', String(kamailioPid), folder], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Neither the watchdog nor its pipe may keep the test process alive.
  watchdog.unref();
  (watchdog.stdin as Socket).unref();
  return watchdog;
}

function stopWatchdog(watchdog: ChildProcess): void {
  if (watchdog.exitCode === null && watchdog.signalCode === null) {
    watchdog.kill('SIGKILL');
  }
}

/** Lists the ids of the processes in a process group, from /proc (Linux only). */
function listProcessGroup(groupId: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // The process ended while the list was read.
    }
    // Fields after the parenthesised command name: state, ppid, pgrp, ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === groupId) {
      members.push(Number(entry));
    }
  }
  return members;
}

/** Sends a signal to a pid (or to a process group when negative), ignoring processes that are gone. */
function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
      throw error;
    }
  }
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function settlesWithin(promise: Promise<unknown>, milliseconds: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), milliseconds);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
