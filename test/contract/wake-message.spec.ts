import { ANY_DISPATCH, WAKE_PREFIX, decodeWake, encodeDispatched, encodeStopRequested } from '../../lib/store/wake-message.js';

describe('wake messages', () => {
  it('round-trip a dispatch with queues and an origin (worker ids contain ":")', () => {
    const text = encodeDispatched(new Set(['a', 'b']), 'host:123:w1');
    expect(decodeWake(text)).toEqual({ kind: 'dispatched', queues: ['a', 'b'], origin: 'host:123:w1' });
  });

  it('round-trip a dispatch without an origin, and "any queue"', () => {
    expect(decodeWake(encodeDispatched(['a']))).toEqual({ kind: 'dispatched', queues: ['a'], origin: '' });
    expect(decodeWake(ANY_DISPATCH)).toEqual({ kind: 'dispatched', queues: [], origin: '' });
  });

  it('round-trip a stop request', () => {
    expect(decodeWake(encodeStopRequested('0190c0de-0000-7000-8000-000000000000'))).toEqual({ kind: 'stopRequested', jobId: '0190c0de-0000-7000-8000-000000000000' });
  });

  it('match what statements build from the prefixes (prefix || queue, prefix || job id)', () => {
    expect(WAKE_PREFIX.dispatched + 'reports').toBe(encodeDispatched(['reports']));
    expect(WAKE_PREFIX.stopRequested + 'id').toBe(encodeStopRequested('id'));
  });

  it('read an empty origin after the separator, and anything unknown as "any queue"', () => {
    expect(decodeWake('d:a,b|')).toEqual({ kind: 'dispatched', queues: ['a', 'b'], origin: '' });
    expect(decodeWake('')).toEqual({ kind: 'dispatched', queues: [], origin: '' });
    expect(decodeWake('x:whatever')).toEqual({ kind: 'dispatched', queues: [], origin: '' });
  });
});
