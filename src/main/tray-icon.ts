/**
 * Icon kinds of the tray. Each kind differs in shape as well as colour, so it
 * reads without colour vision: a filled disc, a ring, a disc with a dot or a bar.
 */
export type TrayIconKind = 'registered' | 'connecting' | 'offline' | 'in-call' | 'missed-calls' | 'do-not-disturb';

export const TRAY_ICON_KINDS: readonly TrayIconKind[] = [
  'registered',
  'connecting',
  'offline',
  'in-call',
  'missed-calls',
  'do-not-disturb',
];

/** Pixel sizes rendered for each icon: 16 for scale factor 1 and 32 for scale factor 2. */
export const TRAY_ICON_SCALES: readonly { scaleFactor: number; size: number }[] = [
  { scaleFactor: 1, size: 16 },
  { scaleFactor: 2, size: 32 },
];

interface Rgb {
  red: number;
  green: number;
  blue: number;
}

type Mark = 'none' | 'hole' | 'dot' | 'bar';

const ICON_STYLES: Record<TrayIconKind, { color: Rgb; mark: Mark }> = {
  registered: { color: { red: 0x2e, green: 0x9e, blue: 0x44 }, mark: 'none' },
  connecting: { color: { red: 0xe3, green: 0xa0, blue: 0x08 }, mark: 'hole' },
  offline: { color: { red: 0x8a, green: 0x8a, blue: 0x8a }, mark: 'hole' },
  'in-call': { color: { red: 0x1a, green: 0x73, blue: 0xe8 }, mark: 'dot' },
  'missed-calls': { color: { red: 0xe8, green: 0x71, blue: 0x0a }, mark: 'dot' },
  'do-not-disturb': { color: { red: 0xd9, green: 0x30, blue: 0x25 }, mark: 'bar' },
};

const WHITE: Rgb = { red: 0xff, green: 0xff, blue: 0xff };

/** Subsamples per pixel side, for anti-aliased edges. */
const SUPERSAMPLING = 4;

/**
 * Renders one icon as a `size`×`size` bitmap in the byte order of Electron's
 * `nativeImage.createFromBitmap` and `addRepresentation` (BGRA, premultiplied alpha).
 */
export function renderTrayIcon(kind: TrayIconKind, size: number): Buffer {
  const { color, mark } = ICON_STYLES[kind];
  const pixels = Buffer.alloc(size * size * 4);

  const center = size / 2;
  const outerRadius = size * 0.44;
  const markSize = size * 0.16;

  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      let red = 0;
      let green = 0;
      let blue = 0;
      let alpha = 0;

      for (let sy = 0; sy < SUPERSAMPLING; sy += 1) {
        for (let sx = 0; sx < SUPERSAMPLING; sx += 1) {
          const dx = x + (sx + 0.5) / SUPERSAMPLING - center;
          const dy = y + (sy + 0.5) / SUPERSAMPLING - center;
          const distance = Math.hypot(dx, dy);
          if (distance > outerRadius) {
            continue;
          }

          const inMark = isInMark(mark, dx, dy, distance, markSize, outerRadius);
          if (mark === 'hole' && inMark) {
            continue;
          }

          const sample = inMark ? WHITE : color;
          red += sample.red;
          green += sample.green;
          blue += sample.blue;
          alpha += 255;
        }
      }

      const samples = SUPERSAMPLING * SUPERSAMPLING;
      const offset = (y * size + x) * 4;
      // Each channel sums only covered samples, so dividing by all samples premultiplies it.
      pixels[offset] = Math.round(blue / samples);
      pixels[offset + 1] = Math.round(green / samples);
      pixels[offset + 2] = Math.round(red / samples);
      pixels[offset + 3] = Math.round(alpha / samples);
    }
  }
  return pixels;
}

function isInMark(mark: Mark, dx: number, dy: number, distance: number, markSize: number, outerRadius: number): boolean {
  switch (mark) {
    case 'none':
      return false;
    case 'hole':
      return distance < outerRadius - markSize;
    case 'dot':
      return distance < markSize;
    case 'bar':
      return Math.abs(dx) < outerRadius * 0.6 && Math.abs(dy) < markSize * 0.6;
  }
}
