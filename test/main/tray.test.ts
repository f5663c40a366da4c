import { describe, expect, it } from 'vitest';

import type { PhoneStatus } from '../../src/shared/desktop';
import { createTrayController, describeTray, type TrayMenuItem, type TrayState } from '../../src/main/tray';
import { renderTrayIcon, TRAY_ICON_KINDS, type TrayIconKind } from '../../src/main/tray-icon';

const REGISTERED: PhoneStatus = { registration: 'registered', inCall: false };

function state(change: Partial<Omit<TrayState, 'phone'>> & { phone?: Partial<PhoneStatus> } = {}): TrayState {
  return {
    missedCalls: change.missedCalls ?? 0,
    doNotDisturb: change.doNotDisturb ?? false,
    phone: { ...REGISTERED, ...change.phone },
  };
}

describe('tray description', () => {
  const cases: [string, TrayState, TrayIconKind, string][] = [
    ['registered', state(), 'registered', 'RC Softphone: registered, ready for calls'],
    ['connecting', state({ phone: { registration: 'connecting' } }), 'connecting', 'RC Softphone: connecting…'],
    ['offline', state({ phone: { registration: 'offline' } }), 'offline', 'RC Softphone: offline'],
    ['in a call', state({ phone: { inCall: true }, missedCalls: 2, doNotDisturb: true }), 'in-call', 'RC Softphone: on a call'],
    ['one missed call', state({ missedCalls: 1, doNotDisturb: true }), 'missed-calls', 'RC Softphone: 1 missed call, registered'],
    ['missed calls offline', state({ missedCalls: 3, phone: { registration: 'offline' } }), 'missed-calls', 'RC Softphone: 3 missed calls, offline'],
    ['Do Not Disturb', state({ doNotDisturb: true }), 'do-not-disturb', 'RC Softphone: Do Not Disturb, registered'],
  ];

  for (const [name, input, icon, tooltip] of cases) {
    it(`shows ${name}`, () => {
      expect(describeTray(input, 'RC Softphone')).toEqual({ icon, tooltip });
    });
  }
});

function createFakeTray() {
  const calls: [string, unknown][] = [];
  const listeners = new Map<string, () => void>();
  return {
    calls,
    listeners,
    tray: {
      setImage: (image: string) => void calls.push(['setImage', image]),
      setToolTip: (text: string) => void calls.push(['setToolTip', text]),
      setContextMenu: (menu: TrayMenuItem[]) => void calls.push(['setContextMenu', menu]),
      on: (event: 'click', listener: () => void) => void listeners.set(event, listener),
    },
  };
}

function createController(clickOpensWindow = true) {
  const fake = createFakeTray();
  const actions: string[] = [];
  const imagesCreated: TrayIconKind[] = [];
  const controller = createTrayController<string, TrayMenuItem[]>({
    tray: fake.tray,
    buildMenu: (items) => items,
    createImage: (kind) => {
      imagesCreated.push(kind);
      return `image:${kind}`;
    },
    appName: 'RC Softphone',
    clickOpensWindow,
    onOpen: () => actions.push('open'),
    onSetDoNotDisturb: (enabled) => actions.push(`dnd ${enabled}`),
    onQuit: () => actions.push('quit'),
  });
  return { controller, fake, actions, imagesCreated };
}

function lastMenu(calls: [string, unknown][]): TrayMenuItem[] {
  const menus = calls.filter(([name]) => name === 'setContextMenu');
  return menus.at(-1)![1] as TrayMenuItem[];
}

describe('tray controller', () => {
  it('offers Open, Do Not Disturb and Quit', () => {
    const { controller, fake, actions } = createController();

    controller.update(state());
    const menu = lastMenu(fake.calls);
    const byLabel = (label: string) => menu.find((item) => item.label === label)!;
    byLabel('Open RC Softphone').click!();
    byLabel('Do Not Disturb').click!();
    byLabel('Quit').click!();

    expect(menu.filter((item) => item.type !== 'separator').map((item) => item.label)).toEqual([
      'Open RC Softphone',
      'Do Not Disturb',
      'Quit',
    ]);
    expect(byLabel('Do Not Disturb')).toMatchObject({ type: 'checkbox', checked: false });
    expect(actions).toEqual(['open', 'dnd true', 'quit']);
  });

  it('turns Do Not Disturb off from a checked menu', () => {
    const { controller, fake, actions } = createController();

    controller.update(state({ doNotDisturb: true }));
    const item = lastMenu(fake.calls).find((entry) => entry.label === 'Do Not Disturb')!;
    item.click!();

    expect(item.checked).toBe(true);
    expect(actions).toEqual(['dnd false']);
  });

  it('changes the icon and tooltip only when they change', () => {
    const { controller, fake, imagesCreated } = createController();

    controller.update(state());
    controller.update(state());
    controller.update(state({ phone: { inCall: true } }));
    controller.update(state());

    expect(fake.calls.filter(([name]) => name === 'setImage').map(([, image]) => image)).toEqual([
      'image:registered',
      'image:in-call',
      'image:registered',
    ]);
    expect(fake.calls.filter(([name]) => name === 'setToolTip')).toHaveLength(3);
    expect(fake.calls.filter(([name]) => name === 'setContextMenu')).toHaveLength(1);
    expect(imagesCreated).toEqual(['registered', 'in-call']);
  });

  it('rebuilds the menu when Do Not Disturb changes', () => {
    const { controller, fake } = createController();

    controller.update(state());
    controller.update(state({ doNotDisturb: true }));

    expect(fake.calls.filter(([name]) => name === 'setContextMenu')).toHaveLength(2);
    expect(lastMenu(fake.calls).find((item) => item.label === 'Do Not Disturb')!.checked).toBe(true);
  });

  it('opens the window on click unless the platform shows the menu', () => {
    const windows = createController(true);
    const mac = createController(false);

    windows.fake.listeners.get('click')!();

    expect(windows.actions).toEqual(['open']);
    expect(mac.fake.listeners.has('click')).toBe(false);
  });
});

describe('tray icons', () => {
  const pixel = (bitmap: Buffer, size: number, x: number, y: number) => {
    const offset = (y * size + x) * 4;
    return { blue: bitmap[offset]!, green: bitmap[offset + 1]!, red: bitmap[offset + 2]!, alpha: bitmap[offset + 3]! };
  };

  for (const size of [16, 32]) {
    it(`renders every kind at ${size} px`, () => {
      for (const kind of TRAY_ICON_KINDS) {
        const bitmap = renderTrayIcon(kind, size);

        expect(bitmap.length, kind).toBe(size * size * 4);
        expect(pixel(bitmap, size, 0, 0).alpha, `${kind} corner`).toBe(0);
      }
    });
  }

  it('draws each kind differently', () => {
    const bitmaps = TRAY_ICON_KINDS.map((kind) => renderTrayIcon(kind, 32).toString('hex'));

    expect(new Set(bitmaps).size).toBe(TRAY_ICON_KINDS.length);
  });

  it('fills the registered disc and leaves the offline ring hollow', () => {
    const registered = pixel(renderTrayIcon('registered', 32), 32, 16, 16);
    const offline = pixel(renderTrayIcon('offline', 32), 32, 16, 16);

    expect(registered).toEqual({ red: 0x2e, green: 0x9e, blue: 0x44, alpha: 255 });
    expect(offline.alpha).toBe(0);
  });

  it('marks missed calls with a white centre', () => {
    const center = pixel(renderTrayIcon('missed-calls', 32), 32, 16, 16);
    const edge = pixel(renderTrayIcon('missed-calls', 32), 32, 16, 4);

    expect(center).toEqual({ red: 255, green: 255, blue: 255, alpha: 255 });
    expect(edge).toEqual({ red: 0xe8, green: 0x71, blue: 0x0a, alpha: 255 });
  });
});
