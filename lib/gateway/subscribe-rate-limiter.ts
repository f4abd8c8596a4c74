import { SUBSCRIBE_BURST, SUBSCRIBE_PER_SECOND } from './gateway.constants.js';

/** A token bucket per socket: a short burst is fine, a flood is refused (and costs no query). */
export class SubscribeRateLimiter {
  private tokens: number;
  private refilledAt = Date.now();

  constructor(
    private readonly burst = SUBSCRIBE_BURST,
    private readonly perSecond = SUBSCRIBE_PER_SECOND,
  ) {
    this.tokens = burst;
  }

  /** Takes a token; false when the socket is over its rate. */
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
