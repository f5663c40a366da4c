import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createCallServices } from '../../src/main/call-services';
import { createIpcHandlers, IpcPayloadError } from '../../src/main/ipc-handlers';
import { silentLogger } from '../../src/main/logger';
import { createIncomingCallNotifier } from '../../src/main/notifications';
import type { SoftphoneService } from '../../src/main/softphone-service';
import { IpcChannel } from '../../src/shared/ipc';
import type { IncomingCallActionEvent, IncomingCallNotificationAction } from '../../src/shared/notifications';
import { createStandInNotifications } from '../bench/stand-in-notification';
import { createMemoryDesktop, createTempDir, removeDir } from './helpers';

const NOTICE = { callId: 'call-1', callerName: 'Alice Bench', callerNumber: '(650) 555-0101' };

function createNotifier(platform: NodeJS.Platform, supported = true) {
  const notifications = createStandInNotifications({ supported });
  const actions: [string, IncomingCallNotificationAction][] = [];
  const notifier = createIncomingCallNotifier({
    Notification: notifications.Notification,
    platform,
    logger: silentLogger,
    onAction: (callId, action) => actions.push([callId, action]),
  });
  return { notifier, notifications, actions };
}

describe('incoming-call notifier', () => {
  it('shows Answer and Decline buttons on macOS and Windows', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const { notifier, notifications } = createNotifier(platform);

      expect(notifier.show(NOTICE)).toBe(true);

      const [shown] = notifications.open();
      expect(shown?.options.actions.map((action) => action.text)).toEqual(['Answer', 'Decline']);
      expect(shown?.options.title).toBe('Incoming call from Alice Bench');
      expect(shown?.options.body).toBe('(650) 555-0101');
      expect(shown?.options.silent).toBe(true);
    }
  });

  it('shows no buttons on Linux', () => {
    const { notifier, notifications } = createNotifier('linux');

    notifier.show({ ...NOTICE, callerName: null });

    expect(notifications.open()[0]?.options.actions).toEqual([]);
    expect(notifications.open()[0]?.options.title).toBe('Incoming call');
  });

  it.each([
    [0, 'answer'],
    [1, 'decline'],
  ] as const)('reports button %i as %s and closes the notification', (index, action) => {
    const { notifier, notifications, actions } = createNotifier('darwin');
    notifier.show(NOTICE);

    notifications.open()[0]!.pressAction(index);

    expect(actions).toEqual([['call-1', action]]);
    expect(notifications.open()).toEqual([]);
  });

  it('reports a click on the body as show and keeps the notification', () => {
    const { notifier, notifications, actions } = createNotifier('linux');
    notifier.show(NOTICE);

    notifications.open()[0]!.click();

    expect(actions).toEqual([['call-1', 'show']]);
    expect(notifications.open()).toHaveLength(1);
  });

  it('closes the notification of a call that stopped ringing', () => {
    const { notifier, notifications } = createNotifier('win32');
    notifier.show(NOTICE);
    notifier.show({ ...NOTICE, callId: 'call-2' });

    notifier.close('call-1');

    expect(notifications.open().map((shown) => shown.options.title)).toHaveLength(1);
    expect(notifications.created[0]?.closed).toBe(true);
    notifier.closeAll();
    expect(notifications.open()).toEqual([]);
  });

  it('ignores an unknown button index', () => {
    const { notifier, notifications, actions } = createNotifier('darwin');
    notifier.show(NOTICE);

    notifications.open()[0]!.pressAction(5);

    expect(actions).toEqual([]);
  });

  it('returns false where the OS has no notifications', () => {
    const { notifier, notifications } = createNotifier('linux', false);

    expect(notifier.show(NOTICE)).toBe(false);
    expect(notifications.created).toEqual([]);
  });
});

describe('call services', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await createTempDir('call-services');
  });

  afterEach(async () => {
    await removeDir(dir);
  });

  function createServices() {
    const notifications = createStandInNotifications();
    const windowShown: number[] = [];
    const sent: IncomingCallActionEvent[] = [];
    const services = createCallServices({
      dataDir: dir,
      Notification: notifications.Notification,
      platform: 'darwin',
      logger: silentLogger,
      showWindow: () => windowShown.push(1),
      sendIncomingCallAction: (event) => sent.push(event),
    });
    return { services, notifications, windowShown, sent };
  }

  it.each([
    ['answer', 0, 1, [{ callId: 'call-1', action: 'answer' }]],
    ['decline', 1, 0, [{ callId: 'call-1', action: 'decline' }]],
  ] as const)('routes %s to the renderer', (_action, index, shows, events) => {
    const { services, notifications, windowShown, sent } = createServices();
    services.incomingCallNotifier.show(NOTICE);

    notifications.open()[0]!.pressAction(index);

    expect(windowShown).toHaveLength(shows);
    expect(sent).toEqual(events);
  });

  it('brings the window to the front on a click without answering', () => {
    const { services, notifications, windowShown, sent } = createServices();
    services.incomingCallNotifier.show(NOTICE);

    notifications.open()[0]!.click();

    expect(windowShown).toHaveLength(1);
    expect(sent).toEqual([]);
  });

  /** A service whose every use fails the test: these channels must not reach it. */
  const unusedService = new Proxy({} as SoftphoneService, {
    get: (_target, property) => {
      throw new Error(`SoftphoneService.${String(property)} was used`);
    },
  });

  it('serves the call channels over the real stores', async () => {
    const { services, notifications } = createServices();
    const handlers = createIpcHandlers(unusedService, services, createMemoryDesktop());
    const preferences = {
      audio: { microphone: { deviceId: 'mic-1', label: 'Headset' }, speaker: null, ringer: null },
      dialing: { defaultCountry: 'US' },
    };

    expect(await handlers[IpcChannel.SavePreferences](preferences)).toEqual(preferences);
    expect(await handlers[IpcChannel.GetPreferences](undefined)).toEqual(preferences);

    const added = await handlers[IpcChannel.AddCallHistoryEntry]({
      direction: 'inbound',
      number: '+16505550101',
      extension: null,
      name: 'Alice Bench',
      startedAt: 1_700_000_000_000,
      durationSeconds: 0,
      result: 'missed',
      detail: null,
    });
    expect(added.missedCount).toBe(1);
    expect((await handlers[IpcChannel.GetCallHistory](undefined)).entries).toHaveLength(1);
    expect((await handlers[IpcChannel.MarkMissedCallsSeen](undefined)).missedCount).toBe(0);
    expect((await handlers[IpcChannel.ClearCallHistory](undefined)).entries).toEqual([]);

    await handlers[IpcChannel.ShowIncomingCallNotification](NOTICE);
    expect(notifications.open()).toHaveLength(1);
    await handlers[IpcChannel.CloseIncomingCallNotification]({ callId: 'call-1' });
    expect(notifications.open()).toEqual([]);
  });

  const badPayloads: [IpcChannel, unknown, RegExp][] = [
    [IpcChannel.SavePreferences, { audio: {}, dialing: { defaultCountry: null } }, /audio\.microphone/],
    [IpcChannel.SavePreferences, { audio: { microphone: null, speaker: null, ringer: null }, dialing: { defaultCountry: 'usa' } }, /two-letter/],
    [IpcChannel.AddCallHistoryEntry, { number: '+16505550101' }, /direction/],
    [IpcChannel.AddCallHistoryEntry, { direction: 'inbound', number: 'sip:a:pw@b', name: null, startedAt: 1, durationSeconds: 0, result: 'missed', detail: null }, /number/],
    [IpcChannel.ShowIncomingCallNotification, { ...NOTICE, callId: '../x' }, /callId/],
    [IpcChannel.ShowIncomingCallNotification, { ...NOTICE, callerName: 'x'.repeat(300) }, /callerName/],
    [IpcChannel.CloseIncomingCallNotification, 'call-1', /expected object/],
    [IpcChannel.MarkMissedCallsSeen, { all: true }, /Invalid input|expected/],
  ];

  for (const [channel, payload, message] of badPayloads) {
    it(`rejects ${JSON.stringify(payload).slice(0, 40)} on ${channel}`, async () => {
      const { services, notifications } = createServices();
      const handler = createIpcHandlers(unusedService, services, createMemoryDesktop())[channel] as (request: unknown) => Promise<unknown>;

      const error = await handler(payload).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(IpcPayloadError);
      expect((error as Error).message).toMatch(message);
      expect(notifications.created).toEqual([]);
      expect((await services.callHistory.snapshot()).entries).toEqual([]);
    });
  }
});
