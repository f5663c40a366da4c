import { describe, expect, it } from 'vitest';

import {
  describeCallFailure,
  describeCallOutcome,
  describeRejectedCall,
  sipStatusOf,
} from '../../src/renderer/sip/call-failure';

describe('describeCallFailure', () => {
  it.each([
    [404, 'Number not found', 'was not found'],
    [604, 'Number not found', 'was not found'],
    [484, 'Incomplete number', 'is incomplete'],
    [408, 'No answer', 'Nobody answered'],
    [480, 'Unavailable', 'not available'],
    [486, 'Busy', 'busy'],
    [600, 'Busy', 'busy'],
    [603, 'Declined', 'declined the call'],
    [403, 'Not allowed', 'not allowed'],
    [487, 'Cancelled', 'cancelled'],
    [488, 'Audio not compatible', 'audio format'],
    [606, 'Audio not compatible', 'audio format'],
    [500, 'Phone service problem', 'phone service'],
    [503, 'Phone service problem', 'phone service'],
    [482, 'Call failed', 'could not be connected'],
    [420, 'Call failed', 'could not be connected'],
  ])('describes SIP %i', (statusCode, label, words) => {
    const text = describeCallFailure(statusCode);

    expect(text.label).toBe(label);
    expect(text.sentence).toContain(words);
    expect(text.code).toBe(`SIP ${statusCode}`);
  });

  it('keeps SIP words out of the sentences', () => {
    for (const statusCode of [403, 404, 408, 480, 482, 484, 486, 487, 488, 500, 600, 603, 604, 606]) {
      const { sentence } = describeCallFailure(statusCode);

      expect(sentence).not.toMatch(/[0-9]{3}/);
      expect(sentence).not.toMatch(/SIP|Not Found|Loop|Request/);
    }
  });

  it('tells the user what to do next', () => {
    for (const statusCode of [403, 404, 408, 480, 482, 484, 486, 487, 488, 500, 600, 603, 604, 606]) {
      const sentences = describeCallFailure(statusCode).sentence.split('. ');

      expect(sentences.length).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('sipStatusOf', () => {
  it('reads the code of a status detail', () => {
    expect(sipStatusOf('404 Not Found')).toBe(404);
    expect(sipStatusOf('486')).toBe(486);
  });

  it('returns null for other details', () => {
    expect(sipStatusOf(null)).toBeNull();
    expect(sipStatusOf('Parked at *801.')).toBeNull();
    expect(sipStatusOf('to 101')).toBeNull();
    expect(sipStatusOf('2000 things')).toBeNull();
    expect(sipStatusOf('200 OK')).toBeNull();
  });
});

describe('describeRejectedCall', () => {
  it('describes a rejection with a status', () => {
    expect(describeRejectedCall('rejected', '404 Not Found')?.label).toBe('Number not found');
    expect(describeRejectedCall('busy', '486 Busy Here')?.label).toBe('Busy');
    expect(describeRejectedCall('declined', '603 Decline')?.label).toBe('Declined');
  });

  it('ignores ends that are no SIP rejection', () => {
    expect(describeRejectedCall('declined', null)).toBeNull();
    expect(describeRejectedCall('parked', 'Parked at *801.')).toBeNull();
    expect(describeRejectedCall('failed', '408 Request Timeout')).toBeNull();
    expect(describeRejectedCall('hung-up-remotely', null)).toBeNull();
  });
});

describe('describeCallOutcome', () => {
  it('words the reason with its detail', () => {
    expect(describeCallOutcome('hung-up-remotely', null)).toBe('hung up remotely');
    expect(describeCallOutcome('parked', 'Parked at *801.')).toBe('parked (Parked at *801.)');
  });

  it('hides the 487 of a cancelled call', () => {
    expect(describeCallOutcome('cancelled', '487 Request Terminated')).toBe('cancelled');
  });
});
