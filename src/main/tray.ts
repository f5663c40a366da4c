import type { PhoneStatus } from '../shared/desktop';
import type { TrayIconKind } from './tray-icon';

/** Everything the tray shows. */
export interface TrayState {
  phone: PhoneStatus;
  /** Missed calls the user has not looked at, from the call history. */
  missedCalls: number;
  doNotDisturb: boolean;
}

/**
 * Picks the icon and tooltip. A call in progress wins over missed calls, missed
 * calls over Do Not Disturb, and Do Not Disturb over the registration, because
 * each is more urgent for the user than the next.
 */
export function describeTray(state: TrayState, appName: string): { icon: TrayIconKind; tooltip: string } {
  const registration = {
    registered: 'registered',
    connecting: 'connecting…',
    offline: 'offline',
  }[state.phone.registration];

  if (state.phone.inCall) {
    return { icon: 'in-call', tooltip: `${appName}: on a call` };
  }
  if (state.missedCalls > 0) {
    const calls = state.missedCalls === 1 ? '1 missed call' : `${state.missedCalls} missed calls`;
    return { icon: 'missed-calls', tooltip: `${appName}: ${calls}, ${registration}` };
  }
  if (state.doNotDisturb) {
    return { icon: 'do-not-disturb', tooltip: `${appName}: Do Not Disturb, ${registration}` };
  }
  if (state.phone.registration === 'registered') {
    return { icon: 'registered', tooltip: `${appName}: registered, ready for calls` };
  }
  return { icon: state.phone.registration, tooltip: `${appName}: ${registration}` };
}

/** One entry of the tray menu; the shape is a subset of Electron's `MenuItemConstructorOptions`. */
export interface TrayMenuItem {
  label?: string;
  type?: 'normal' | 'checkbox' | 'separator';
  checked?: boolean;
  click?: () => void;
}

/** The part of Electron's `Tray` the controller uses. */
export interface TrayLike<Image, Menu> {
  setImage(image: Image): void;
  setToolTip(toolTip: string): void;
  setContextMenu(menu: Menu): void;
  on(event: 'click', listener: () => void): unknown;
}

export interface TrayControllerOptions<Image, Menu> {
  tray: TrayLike<Image, Menu>;
  /** `Menu.buildFromTemplate` in production. */
  buildMenu(items: TrayMenuItem[]): Menu;
  /** Returns the image of one icon kind; called once per kind the tray shows. */
  createImage(kind: TrayIconKind): Image;
  appName: string;
  /** Whether a click on the icon opens the window; macOS opens the menu instead. */
  clickOpensWindow: boolean;
  onOpen(): void;
  onSetDoNotDisturb(enabled: boolean): void;
  onQuit(): void;
}

export interface TrayController {
  update(state: TrayState): void;
}

/**
 * Keeps the tray icon, tooltip and menu (Open, Do Not Disturb, Quit) in step
 * with the state. The menu is built again whenever Do Not Disturb changes,
 * because Linux trays show a changed checkbox only after `setContextMenu`.
 */
export function createTrayController<Image, Menu>(options: TrayControllerOptions<Image, Menu>): TrayController {
  const images = new Map<TrayIconKind, Image>();
  let shownIcon: TrayIconKind | null = null;
  let shownTooltip: string | null = null;
  let shownDoNotDisturb: boolean | null = null;

  if (options.clickOpensWindow) {
    options.tray.on('click', () => options.onOpen());
  }

  const imageFor = (kind: TrayIconKind): Image => {
    let image = images.get(kind);
    if (image === undefined) {
      image = options.createImage(kind);
      images.set(kind, image);
    }
    return image;
  };

  const buildMenu = (doNotDisturb: boolean) =>
    options.buildMenu([
      { label: `Open ${options.appName}`, click: () => options.onOpen() },
      { type: 'separator' },
      {
        label: 'Do Not Disturb',
        type: 'checkbox',
        checked: doNotDisturb,
        click: () => options.onSetDoNotDisturb(!doNotDisturb),
      },
      { type: 'separator' },
      { label: 'Quit', click: () => options.onQuit() },
    ]);

  return {
    update(state) {
      const { icon, tooltip } = describeTray(state, options.appName);

      if (icon !== shownIcon) {
        options.tray.setImage(imageFor(icon));
        shownIcon = icon;
      }
      if (tooltip !== shownTooltip) {
        options.tray.setToolTip(tooltip);
        shownTooltip = tooltip;
      }
      if (state.doNotDisturb !== shownDoNotDisturb) {
        options.tray.setContextMenu(buildMenu(state.doNotDisturb));
        shownDoNotDisturb = state.doNotDisturb;
      }
    },
  };
}
