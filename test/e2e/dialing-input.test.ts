import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseDialLink } from '../../src/main/protocol-links';
import { IpcEvent } from '../../src/shared/ipc';
import { readAudioPackets } from '../bench/peer-connection-probe';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startRegisteredPhones } from '../bench/registered-phones';
import type { SoftphoneInstance } from '../bench/softphone-instance';
import { callCard, waitForCallStatus, waitForIdle } from '../bench/softphone-ui';

const POLL = { timeout: 10_000 };

function numberField(page: Page) {
  return page.getByLabel('Number to call');
}

/** Pastes `text` the way the browser does: a paste event with the text on its clipboardData. */
async function paste(page: Page, text: string, target: 'field' | 'page'): Promise<void> {
  await page.evaluate(
    ([pasted, into]) => {
      const data = new DataTransfer();
      data.setData('text/plain', pasted);
      const element = into === 'field' ? document.querySelector('input[type="tel"]')! : document.body;
      element.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    },
    [text, target] as const,
  );
}

/** Moves the focus out of every field, as a click on an empty part of the window does. */
async function blur(page: Page): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

/** Lists the INVITE request-URIs Kamailio has logged so far. */
function invitesSeen(bench: SoftphoneBench): string[] {
  return [...bench.kamailio.log().matchAll(/request INVITE (\S+) from/g)].map((match) => match[1]!);
}

describe('dialing', () => {
  const alice = benchLine(1, 'Alice Bench');
  const bob = benchLine(2, 'Bob Bench');
  let bench: SoftphoneBench;
  let a: SoftphoneInstance;
  let b: SoftphoneInstance;

  beforeAll(async () => {
    bench = await startSoftphoneBench([alice, bob]);
    [a, b] = await startRegisteredPhones(bench, [alice, bob]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await bench?.stop();
  });

  it('fills the number from the pad, the keyboard and pasted text', async () => {
    const pad = a.page.getByRole('group', { name: 'Dial pad' });
    for (const key of ['6', '5', '0']) await pad.getByRole('button', { name: `Digit ${key}` }).click();
    expect(await numberField(a.page).inputValue()).toBe('650');

    // Typing with the focus outside the field goes to the number too.
    await blur(a.page);
    await a.page.keyboard.type('5550#');
    await a.page.keyboard.press('Backspace');
    expect(await numberField(a.page).inputValue()).toBe('6505550');

    await numberField(a.page).fill('');
    await paste(a.page, '\u202aCall me at +1\u00a0(650)\u00a0555\u20110102 today\u202c', 'field');
    expect(await numberField(a.page).inputValue()).toBe('+1 (650) 555-0102');
    await expect(a.page.getByLabel('Number preview').textContent()).resolves.toBe('(650) 555-0102');

    await blur(a.page);
    await paste(a.page, 'tel:+16505550102', 'page');
    expect(await numberField(a.page).inputValue()).toBe('+16505550102');
    await numberField(a.page).fill('');
  });

  it('shows a message for an invalid number and sends no INVITE', async () => {
    const invitesBefore = invitesSeen(bench).length;

    await numberField(a.page).fill('+1 555 000 0102');
    await a.page.getByRole('button', { name: 'Call', exact: true }).click();

    const alert = a.page.getByRole('alert');
    await alert.waitFor(POLL);
    await expect(alert.textContent()).resolves.toContain('"+1 555 000 0102" is not a valid phone number.');
    expect(await a.page.locator('.call-card').count()).toBe(0);
    expect((await readAudioPackets(a.page)).peerConnections).toBe(0);
    expect(invitesSeen(bench)).toHaveLength(invitesBefore);
  });

  it('dials a typed national number in E.164', async () => {
    await numberField(a.page).fill('');
    await blur(a.page);
    await a.page.keyboard.type(bob.username.slice(1));
    await a.page.keyboard.press('Enter');

    await waitForCallStatus(b.page, 'ringing');
    expect(invitesSeen(bench)).toContain(`sip:+${bob.username}@${bench.kamailio.domain}`);
    await expect(callCard(a.page).getByLabel('Remote party').textContent()).resolves.toBe(bob.nationalNumber);

    await b.page.getByRole('button', { name: 'Decline' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);
    await expect.poll(async () => (await a.callServices.callHistory.snapshot()).entries[0], POLL).toMatchObject({
      direction: 'outbound',
      number: `+${bob.username}`,
      result: 'declined',
    });
  });

  it('reads a number typed in Arabic-Indic digits', async () => {
    const arabicIndic = bob.username.slice(1).replace(/[0-9]/g, (digit) => String.fromCodePoint(0x0660 + Number(digit)));

    await numberField(a.page).fill(arabicIndic);

    await expect(a.page.getByLabel('Number preview').textContent()).resolves.toBe(bob.nationalNumber);
    await numberField(a.page).fill('');
  });

  it('shows the extension in the number preview', async () => {
    await numberField(a.page).fill(`${bob.username.slice(1)} x42`);

    await expect(a.page.getByLabel('Number preview').textContent()).resolves.toBe(`${bob.nationalNumber}, then extension 42`);
    await numberField(a.page).fill('');
  });

  it('shows the extension of a dial link', async () => {
    await a.emit(IpcEvent.DialLinkOpened, parseDialLink(`tel:+${bob.username};ext=123`, null));

    const prompt = a.page.getByRole('alertdialog', { name: 'Call from a link' });
    await prompt.waitFor(POLL);
    await expect(prompt.getByLabel('Extension').textContent()).resolves.toContain(
      'Extension 123 is dialed 2 seconds after the call connects.',
    );
    await prompt.getByRole('button', { name: 'Cancel' }).click();
    expect(await prompt.count()).toBe(0);
  });

  it('dials a link extension after connecting', async () => {
    await a.emit(IpcEvent.DialLinkOpened, parseDialLink(`tel:+${bob.username};ext=123`, null));
    const prompt = a.page.getByRole('alertdialog', { name: 'Call from a link' });
    await prompt.getByRole('button', { name: 'Call' }).click();

    await waitForCallStatus(b.page, 'ringing');
    // The request-URI is the number alone; the extension waits for the call to connect.
    expect(invitesSeen(bench).at(-1)).toBe(`sip:+${bob.username}@${bench.kamailio.domain}`);
    await b.page.getByRole('button', { name: 'Answer' }).click();
    await waitForCallStatus(a.page, 'established');
    await expect
      .poll(() => callCard(a.page).getByLabel('Call notice').textContent(), POLL)
      .toMatch(/^(Dialing extension 123 in a moment|Dialed extension 123)\.$/);

    await callCard(a.page).getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);
  });
});
