import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { RcSipPeer, type PeerCall } from '../bench/rc-sip-peer';
import { header, uriOf, type SipMessage } from '../bench/sip-message';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from '../bench/softphone-instance';
import { callCard, signInWithJwt, waitForCallStatus, waitForIdle, waitForRegistered } from '../bench/softphone-ui';

/**
 * RingCentral's call control against a scripted SIP peer that plays the
 * RingCentral server: the `P-rc` header of an inbound INVITE, the MESSAGE
 * commands (x-rc/agent) both ways, the in-call INFO commands, and re-INVITEs
 * the server answers with 491 or 488.
 */
describe('RingCentral call control', () => {
  const alice = benchLine(1, 'Alice Bench');
  const server = benchLine(9, 'RingCentral Server');
  let bench: SoftphoneBench;
  let phone: SoftphoneInstance;
  let peer: RcSipPeer;
  let sessionNumber = 0;
  /** Calls of the current test, ended after it whatever its outcome. */
  let openCalls: PeerCall[] = [];

  beforeAll(async () => {
    bench = await startSoftphoneBench([alice, server]);
    phone = await startSoftphoneInstance({ name: 'alice', rendererUrl: bench.renderer.url });
    await signInWithJwt(phone.page, bench.platform.url, alice.jwtCredential);
    await waitForRegistered(phone.page);
    peer = await RcSipPeer.start({
      wsUrl: bench.kamailio.wsUrl,
      domain: bench.kamailio.domain,
      username: server.username,
      authorizationId: server.authorizationId,
      password: server.password,
    });
  });

  afterEach(async () => {
    for (const call of openCalls) await endPeerCall(call);
    openCalls = [];
    await waitForIdle(phone.page);
  });

  afterAll(async () => {
    await peer?.close();
    await phone?.close();
    await bench?.stop();
  });

  /** Builds a `P-rc` value as RingCentral's server sends it with an inbound call (command 6). */
  function rcHeader(sid: string): string {
    return (
      `<Msg><Hdr SID="${sid}" Req="{${sid}-req}" From="${server.username}@${bench.kamailio.domain}" ` +
      `To="${alice.username}" Cmd="6"/><Bdy Phn="+16505550177" Nm="ACME &amp; SONS" ToPhn="+${alice.username}" ` +
      `ToNm="Alice Bench" RecUrl=""/></Msg>`
    );
  }

  /** Builds a server-to-client command about the call with `sid`. */
  function serverCommand(sid: string, command: number, client: string): string {
    return (
      `<Msg><Hdr SID="${sid}" Req="{${sid}-req}" From="${server.username}@${bench.kamailio.domain}" ` +
      `To="${alice.username}" Cmd="${command}"/><Bdy Cln="${client}"/></Msg>`
    );
  }

  /** Calls the softphone with a `P-rc` header; resolves once it rings. */
  async function ringWithCallControl(): Promise<{ call: PeerCall; sid: string }> {
    const sid = `bench-session-${++sessionNumber}`;
    const call = await peer.invite(alice.username, [['P-rc', rcHeader(sid)]]);
    openCalls.push(call);
    await call.waitForResponse(180);
    await waitForCallStatus(phone.page, 'ringing');
    return { call, sid };
  }

  /** Waits for the client's call-control MESSAGE for `sid` with command `command`. */
  function clientCommand(sid: string, command: number): Promise<SipMessage> {
    return peer.waitForRequest(
      (request) => request.method === 'MESSAGE' && request.body.includes(`SID="${sid}"`) && request.body.includes(`Cmd="${command}"`),
    );
  }

  /** CANCELs a call still ringing or sends BYE on an answered one. */
  async function endPeerCall(call: PeerCall): Promise<void> {
    const final = call.inviteResponses.find((response) => response.status! >= 200);
    if (!final) {
      await call.cancel().catch(() => undefined);
    } else if (final.status === 200 && !call.ended) {
      await call.request('BYE').catch(() => undefined);
    }
  }

  function attributes(xml: string, element: 'Hdr' | 'Bdy'): Record<string, string> {
    const tag = new RegExp(`<${element}\\s([^>]*?)/?>`).exec(xml)?.[1] ?? '';
    return Object.fromEntries([...tag.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
  }

  /** Answers the ringing call in the UI and waits until both ends have the dialog. */
  async function answerInUi(call: PeerCall): Promise<void> {
    await callCard(phone.page).getByRole('button', { name: 'Answer' }).click();
    expect((await call.finalResponse()).status).toBe(200);
    await waitForCallStatus(phone.page, 'established');
  }

  it('shows the P-rc caller and confirms receipt after 180', async () => {
    const { call, sid } = await ringWithCallControl();
    const confirmation = await clientCommand(sid, 17);
    const ringing = await call.waitForResponse(180);

    expect(confirmation.sequence!).toBeGreaterThan(ringing.sequence!);
    expect(header(confirmation, 'content-type')).toBe('x-rc/agent');
    expect(uriOf(header(confirmation, 'to')!)).toBe(`sip:${server.username}@${bench.kamailio.domain}`);
    expect(attributes(confirmation.body, 'Hdr')).toEqual({
      SID: sid,
      Req: `{${sid}-req}`,
      From: alice.username,
      To: `${server.username}@${bench.kamailio.domain}`,
      Cmd: '17',
    });
    expect(attributes(confirmation.body, 'Bdy')).toEqual({ Cln: alice.authorizationId });

    await expect(callCard(phone.page).getByLabel('Remote party').textContent()).resolves.toBe('ACME & SONS');
    await expect(callCard(phone.page).getByLabel('Remote number').textContent()).resolves.toBe('(650) 555-0177');

    expect((await call.cancel()).status).toBe(200);
    expect((await call.finalResponse()).status).toBe(487);
    await waitForIdle(phone.page);
  });

  it('declines with command 12 and lets the server cancel', async () => {
    const { call, sid } = await ringWithCallControl();
    await clientCommand(sid, 17);

    await callCard(phone.page).getByRole('button', { name: 'Decline' }).click();
    const reject = await clientCommand(sid, 12);
    await waitForIdle(phone.page);

    expect(attributes(reject.body, 'Bdy')).toEqual({ Cln: alice.authorizationId });
    expect((await call.cancel()).status).toBe(200);
    expect((await call.finalResponse()).status).toBe(487);
    await expect(phone.page.getByLabel('Last call').textContent()).resolves.toContain('declined');
  });

  it('sends to voicemail with command 11', async () => {
    const { call, sid } = await ringWithCallControl();
    await clientCommand(sid, 17);

    await callCard(phone.page).getByRole('button', { name: 'Send to voicemail' }).click();
    const toVoicemail = await clientCommand(sid, 11);
    await waitForIdle(phone.page);

    expect(attributes(toVoicemail.body, 'Hdr')).toMatchObject({ SID: sid, Req: `{${sid}-req}`, Cmd: '11' });
    expect(attributes(toVoicemail.body, 'Bdy')).toEqual({ Cln: alice.authorizationId });
    expect((await call.cancel()).status).toBe(200);
    expect((await call.finalResponse()).status).toBe(487);
    await expect(phone.page.getByLabel('Last call').textContent()).resolves.toContain('sent to voicemail');
  });

  it('ignores command 7 for another instance, obeys its own', async () => {
    const { call, sid } = await ringWithCallControl();
    await clientCommand(sid, 17);

    expect(await peer.message(alice.username, 'x-rc/agent', serverCommand(sid, 7, '802599999999'))).toBe(200);
    await expect(phone.page.locator('.call-card[data-call-status="ringing"]').count()).resolves.toBe(1);

    expect(await peer.message(alice.username, 'x-rc/agent', serverCommand(sid, 7, alice.authorizationId))).toBe(200);
    await waitForIdle(phone.page);
    await expect(phone.page.getByLabel('Last call').textContent()).resolves.toContain('answered elsewhere');

    expect((await call.cancel()).status).toBe(200);
    expect((await call.finalResponse()).status).toBe(487);
  });

  it('runs record, flip and park as INFO commands and shows their results', async () => {
    const { call, sid } = await ringWithCallControl();
    await clientCommand(sid, 17);
    await answerInUi(call);

    const commands: Array<Record<string, unknown>> = [];
    const results: Record<string, Record<string, unknown>> = {
      startcallrecord: { code: 0, description: 'OK' },
      stopcallrecord: { code: 0, description: 'OK' },
      callflip: { code: 1, description: 'Flip number 5 is not configured' },
      callpark: { code: 0, description: 'OK', 'park extension': '*801' },
    };
    call.onInfo = (request) => {
      expect(header(request, 'content-type')).toBe('application/json;charset=utf-8');
      const command = (JSON.parse(request.body) as { request: Record<string, unknown> }).request;
      commands.push(command);
      const response = { response: { reqid: command.reqid, command: command.command, result: results[String(command.command)] } };
      const sent = call.request('INFO', 'application/json;charset=utf-8', JSON.stringify(response));
      // Like RingCentral's server, the peer ends the parked leg itself.
      if (command.command === 'callpark') void sent.then(() => call.request('BYE'));
    };
    const card = callCard(phone.page);

    await card.getByRole('button', { name: 'Record' }).click();
    await card.getByText('Recording', { exact: true }).waitFor();
    await card.getByRole('button', { name: 'Stop recording' }).click();
    await expect.poll(() => card.getByLabel('Call notice').textContent()).toBe('Recording stopped.');
    await expect(card.getByText('Recording', { exact: true }).count()).resolves.toBe(0);

    await card.getByRole('button', { name: 'Flip' }).click();
    await card.getByLabel('Flip number').fill('5');
    await card.getByRole('button', { name: 'Flip now' }).click();
    await expect.poll(() => card.getByLabel('Call notice').textContent()).toBe('Flip failed: Flip number 5 is not configured.');
    await expect(phone.page.locator('.call-card[data-call-status="established"]').count()).resolves.toBe(1);

    await card.getByRole('button', { name: 'Park' }).click();
    await waitForIdle(phone.page);
    await expect(phone.page.getByLabel('Last call').textContent()).resolves.toContain('parked (Parked at *801.)');

    expect(commands.map((command) => command.command)).toEqual(['startcallrecord', 'stopcallrecord', 'callflip', 'callpark']);
    expect(commands[2]).toMatchObject({ target: '5' });
    expect(new Set(commands.map((command) => command.reqid)).size).toBe(4);
  });

  it('retries a hold answered 491 and ends held', async () => {
    const { call, sid } = await ringWithCallControl();
    await clientCommand(sid, 17);
    await answerInUi(call);

    const peerReinvites: SipMessage[] = [];
    let reinvites = 0;
    call.onReinvite = () => {
      reinvites += 1;
      if (reinvites > 1) return { status: 200 };

      // Glare: the server's own re-INVITE crosses the client's, and each side answers the other's with 491.
      void call.reinvite().then((response) => peerReinvites.push(response));
      return { status: 491 };
    };

    await callCard(phone.page).getByRole('button', { name: 'Hold' }).click();
    await waitForCallStatus(phone.page, 'held');

    const holds = call.dialogRequests.filter((request) => request.method === 'INVITE');
    expect(holds).toHaveLength(2);
    expect(holds.every((request) => /^a=sendonly/m.test(request.body))).toBe(true);
    expect(header(holds[0]!, 'cseq')).not.toBe(header(holds[1]!, 'cseq'));
    await expect.poll(() => peerReinvites.map((response) => response.status)).toEqual([491]);

    await callCard(phone.page).getByRole('button', { name: 'Hang up' }).click();
    await waitForIdle(phone.page);
  });

  it('stays connected when the server rejects a hold', async () => {
    const { call, sid } = await ringWithCallControl();
    await clientCommand(sid, 17);
    await answerInUi(call);

    call.onReinvite = () => ({ status: 488 });
    await callCard(phone.page).getByRole('button', { name: 'Hold' }).click();
    await expect.poll(() => callCard(phone.page).getByLabel('Call notice').textContent()).toBe('Hold failed: 488 Not Acceptable Here.');
    await expect(phone.page.locator('.call-card[data-call-status="established"]').count()).resolves.toBe(1);

    // The rejected offer was rolled back, so the next hold can negotiate.
    call.onReinvite = () => ({ status: 200 });
    await callCard(phone.page).getByRole('button', { name: 'Hold' }).click();
    await waitForCallStatus(phone.page, 'held');

    await callCard(phone.page).getByRole('button', { name: 'Hang up' }).click();
    await waitForIdle(phone.page);
  });
});
