// Stream tokens: EventSource cannot send the API key, so the page buys a short-lived token with it
// (POST /streams/token). The answer also sets it as an HttpOnly cookie, which every EventSource request of
// the page sends, including the browser's own reconnects: so the page keeps the cookie fresh (renewed before
// it expires while a stream is held) rather than putting the token in a URL the browser would reconnect to
// long after it expired. The gateway checks a token only when a stream opens.

export interface IssuedToken {
  token: string;
  /** Milliseconds since the epoch, on this browser's clock. */
  expiresAt: number;
}

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: handle => globalThis.clearTimeout(handle as number),
};

/** Renew this long before expiry: a fifth of the lifetime, at most a minute. */
const MAX_MARGIN_MS = 60_000;
/** After a failed renewal, try again this soon (the held token may still be good for a while). */
export const RETRY_MS = 5_000;

export class StreamTokenKeeper {
  private issued: IssuedToken | null = null;
  private issuedAt = 0;
  private pending: Promise<IssuedToken> | null = null;
  private timer: unknown;
  private holders = 0;

  constructor(private readonly issue: () => Promise<IssuedToken>, private readonly clock: Clock = systemClock) {}

  /** A token good for a while yet: the one held, or a new one. */
  fresh(): Promise<IssuedToken> {
    const issued = this.issued;
    if (issued && issued.expiresAt - this.clock.now() > this.margin(issued)) return Promise.resolve(issued);
    return this.renew();
  }

  /** A new token, whatever the held one says (a stream was refused). Callers at the same moment share one request. */
  renew(): Promise<IssuedToken> {
    this.pending ??= this.issue()
      .then(issued => {
        this.issued = issued;
        this.issuedAt = this.clock.now();
        return issued;
      })
      .finally(() => {
        this.pending = null;
        this.schedule();
      });
    return this.pending;
  }

  /** While anyone holds the keeper, the token is renewed before it expires. Returns the release. */
  hold(): () => void {
    this.holders++;
    this.schedule();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holders--;
      this.schedule();
    };
  }

  private margin(issued: IssuedToken): number {
    return Math.min(MAX_MARGIN_MS, (issued.expiresAt - this.issuedAt) / 5);
  }

  private schedule(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.holders === 0 || !this.issued || this.pending) return;
    const due = this.issued.expiresAt - this.margin(this.issued) - this.clock.now();
    // A token already past its renewal point (a failed renewal) is tried again shortly, not in a tight loop.
    this.timer = this.clock.setTimeout(() => void this.renew().catch(() => undefined), due > 0 ? due : RETRY_MS);
  }
}
