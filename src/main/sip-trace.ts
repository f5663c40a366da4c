import { z } from 'zod';

import type { SipTraceEntry } from '../shared/desktop';
import type { Logger } from './logger';

// An INVITE with its SDP is a few KiB; the limit only stops a renderer from
// pushing megabytes into the log.
const MAX_SIP_TRACE_CONTENT_LENGTH = 256 * 1024;

/** Validates one sip.js log line from the renderer. */
export const sipTraceEntrySchema = z.strictObject({
  level: z.enum(['error', 'warn', 'log', 'debug']),
  category: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'the category must be a sip.js logger name such as sip.Transport'),
  content: z.string().max(MAX_SIP_TRACE_CONTENT_LENGTH),
});

/**
 * Returns the writer of SIP trace lines. Lines go to `logger` only while
 * `isOn()` is true, so a renderer that keeps sending after the switch went off
 * writes nothing. `logger` redacts Digest responses and credentials like any
 * other line.
 */
export function createSipTraceWriter(isOn: () => boolean, logger: Logger): (entry: SipTraceEntry) => void {
  return (entry) => {
    if (!isOn()) {
      return;
    }

    const line = `${entry.category} ${entry.content}`;
    if (entry.level === 'error') {
      logger.error(line);
    } else if (entry.level === 'warn') {
      logger.warn(line);
    } else {
      logger.info(line);
    }
  };
}
