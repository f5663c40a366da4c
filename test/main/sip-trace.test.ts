import { describe, expect, it } from 'vitest';

import { createSipTraceWriter } from '../../src/main/sip-trace';
import { createRecordingLogger } from './helpers';

describe('SIP trace writer', () => {
  it('writes lines only while the switch is on', () => {
    const logger = createRecordingLogger('sip');
    let on = false;
    const write = createSipTraceWriter(() => on, logger);

    write({ level: 'log', category: 'sip.Transport', content: 'dropped' });
    on = true;
    write({ level: 'log', category: 'sip.Transport', content: 'REGISTER sip:example.com SIP/2.0' });
    write({ level: 'warn', category: 'sip.Registerer', content: 'retrying' });
    write({ level: 'error', category: 'sip.UserAgent', content: 'transport error' });

    expect(logger.lines.map((line) => [line.level, line.message])).toEqual([
      ['info', 'sip.Transport REGISTER sip:example.com SIP/2.0'],
      ['warn', 'sip.Registerer retrying'],
      ['error', 'sip.UserAgent transport error'],
    ]);
  });
});
