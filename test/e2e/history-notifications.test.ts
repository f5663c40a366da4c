import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CALL_HISTORY_FILE_NAME } from '../../src/main/call-history';
import type { CallHistoryEntry } from '../../src/shared/call-history';
import { readSentDtmf, watchSentDtmf } from '../bench/call-probe';
import { benchLine, startSoftphoneBench, type SoftphoneBench } from '../bench/softphone-bench';
import { startRegisteredPhones } from '../bench/registered-phones';
import type { SoftphoneInstance } from '../bench/softphone-instance';
import { callCard, dial, waitForCallStatus, waitForIdle } from '../bench/softphone-ui';

const POLL = { timeout: 10_000 };

async function openView(page: Page, view: 'Phone' | 'History'): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${view}`) }).click();
}

/** Finds the history entry buttons that call `nationalNumber` back, with or without a name before it. */
function callBackButton(page: Page, nationalNumber: string) {
  const escaped = nationalNumber.replace(/[().]/g, '\\$&');
  return page.getByRole('button', { name: new RegExp(`^Call back .*${escaped}`) });
}

/** Reads the newest entry of an instance's history from the main process. */
async function newestEntry(phone: SoftphoneInstance): Promise<CallHistoryEntry | undefined> {
  return (await phone.callServices.callHistory.snapshot()).entries[0];
}

describe('call history and incoming-call notifications', () => {
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

  it('counts missed calls until the history opens', async () => {
    await dial(a.page, bob.username);
    await waitForCallStatus(b.page, 'ringing');
    await expect.poll(() => b.notifications.open().length, POLL).toBe(1);

    await a.page.getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);

    expect(b.notifications.open()).toEqual([]);
    await expect.poll(() => newestEntry(b), POLL).toMatchObject({
      direction: 'inbound',
      number: alice.username,
      result: 'missed',
      durationSeconds: 0,
    });
    await expect.poll(() => newestEntry(a), POLL).toMatchObject({
      direction: 'outbound',
      number: `+${bob.username}`,
      name: null,
      result: 'cancelled',
    });

    const badge = b.page.getByLabel('Missed calls');
    await expect.poll(() => badge.textContent(), POLL).toBe('1');
    expect((await b.callServices.callHistory.snapshot()).missedCount).toBe(1);

    await openView(b.page, 'History');
    await badge.waitFor({ state: 'detached', ...POLL });
    await expect.poll(async () => (await b.callServices.callHistory.snapshot()).missedCount, POLL).toBe(0);
    await expect(callBackButton(b.page, alice.nationalNumber).textContent()).resolves.toContain('Missed');
    await openView(b.page, 'Phone');
  });

  it('answers from the notification and brings the window to the front', async () => {
    await dial(a.page, bob.username);
    await waitForCallStatus(b.page, 'ringing');
    await expect.poll(() => b.notifications.open().length, POLL).toBe(1);

    const [notification] = b.notifications.open();
    expect(notification?.options.actions.map((action) => action.text)).toEqual(['Answer', 'Decline']);
    expect(notification?.options.body).toBe(alice.nationalNumber);
    const shownBefore = b.windowShownCount();

    notification!.pressAction(0);

    await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);
    expect(b.windowShownCount()).toBe(shownBefore + 1);
    expect(b.notifications.open()).toEqual([]);

    await b.page.getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);

    await expect.poll(() => newestEntry(b), POLL).toMatchObject({ direction: 'inbound', result: 'answered' });
    await expect.poll(() => newestEntry(a), POLL).toMatchObject({ direction: 'outbound', result: 'answered' });
    expect((await newestEntry(b))!.durationSeconds).toBeGreaterThanOrEqual(0);
  });

  it('declines from the notification', async () => {
    await dial(a.page, bob.username);
    await waitForCallStatus(b.page, 'ringing');
    await expect.poll(() => b.notifications.open().length, POLL).toBe(1);
    const shownBefore = b.windowShownCount();

    b.notifications.open()[0]!.pressAction(1);

    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);
    expect(b.windowShownCount()).toBe(shownBefore);
    await expect.poll(() => newestEntry(b), POLL).toMatchObject({ direction: 'inbound', result: 'declined' });
    await expect.poll(() => newestEntry(a), POLL).toMatchObject({
      direction: 'outbound',
      result: 'declined',
      detail: expect.stringMatching(/^603 /),
    });
  });

  it('calls back from a history entry', async () => {
    await openView(b.page, 'History');
    await callBackButton(b.page, alice.nationalNumber).first().click();

    await waitForCallStatus(a.page, 'ringing');
    await expect(b.page.getByLabel('Remote party').textContent()).resolves.toContain(alice.nationalNumber);
    await a.page.getByRole('button', { name: 'Answer' }).click();
    await Promise.all([waitForCallStatus(a.page, 'established'), waitForCallStatus(b.page, 'established')]);
    await a.page.getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);

    await expect.poll(() => newestEntry(b), POLL).toMatchObject({
      direction: 'outbound',
      number: `+${alice.username}`,
      result: 'answered',
    });
  });

  it('stores the history without secrets', async () => {
    const text = await readFile(join(b.dataDir, CALL_HISTORY_FILE_NAME), 'utf8');
    const entries = (await b.callServices.callHistory.snapshot()).entries;

    expect(entries.map((entry) => entry.result)).toEqual(['answered', 'declined', 'answered', 'missed']);
    for (const secret of [bob.password, bob.jwtCredential, alice.password, alice.jwtCredential]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/password|token|authorization/i);
  });

  it('calls back with the extension dialed before', async () => {
    /** Answers on Bob's side and returns a reader of the tones Alice sends from then on. */
    async function answerAndReadTones(): Promise<() => Promise<string>> {
      await waitForCallStatus(b.page, 'ringing');
      await callCard(b.page).getByRole('button', { name: 'Answer' }).click();
      await waitForCallStatus(a.page, 'established');
      // The tones follow a 2 s pause, so the watch starts in time.
      await watchSentDtmf(a.page);
      const before = (await readSentDtmf(a.page)).length;
      return async () => (await readSentDtmf(a.page)).slice(before).replaceAll(',', '');
    }
    async function hangUp(): Promise<void> {
      await callCard(a.page).getByRole('button', { name: 'Hang up' }).click();
      await Promise.all([waitForIdle(a.page), waitForIdle(b.page)]);
    }

    await openView(a.page, 'Phone');
    await dial(a.page, `+${bob.username} ext. 42`);
    const firstTones = await answerAndReadTones();
    await expect.poll(firstTones, POLL).toBe('42');
    await hangUp();
    await expect.poll(() => newestEntry(a), POLL).toMatchObject({
      direction: 'outbound',
      number: `+${bob.username}`,
      extension: '42',
      result: 'answered',
    });

    await openView(a.page, 'History');
    await callBackButton(a.page, `${bob.nationalNumber} ext. 42`).first().click();
    const tones = await answerAndReadTones();
    await expect.poll(() => callCard(a.page).getByLabel('Call notice').textContent(), POLL).toBe('Dialing extension 42 in a moment.');
    await expect.poll(tones, POLL).toBe('42');
    await hangUp();

    // The callee's entry has no extension: none was dialed on its side.
    await expect.poll(() => newestEntry(b), POLL).toMatchObject({ direction: 'inbound', extension: null });
  });
});
