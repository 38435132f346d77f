import { describe, expect, it } from 'vitest';
import { RETRY_MS, StreamTokenKeeper, type Clock, type IssuedToken } from './streamToken';

/** A clock whose time and timers the test moves. */
class TestClock implements Clock {
  time = 1_000_000;
  private timers: { at: number; callback: () => void; handle: number }[] = [];
  private next = 1;
  now = () => this.time;
  setTimeout = (callback: () => void, ms: number) => {
    const handle = this.next++;
    this.timers.push({ at: this.time + ms, callback, handle });
    return handle;
  };
  clearTimeout = (handle: unknown) => {
    this.timers = this.timers.filter(t => t.handle !== handle);
  };
  pending = () => this.timers.length;
  /** Moves time on, firing each timer that falls due. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter(t => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter(t => t !== due);
      this.time = due.at;
      due.callback();
      await flush();
    }
    this.time = until;
  }
}

const flush = () => new Promise<void>(resolve => globalThis.setTimeout(resolve, 0));

/** An issuer that hands out numbered tokens living `lifetimeMs` from the clock's now, and can be made to fail. */
function issuer(clock: TestClock, lifetimeMs = 600_000) {
  const state = { calls: 0, failing: false };
  const issue = async (): Promise<IssuedToken> => {
    state.calls++;
    await flush();
    if (state.failing) throw new Error('network');
    return { token: `t${state.calls}`, expiresAt: clock.now() + lifetimeMs };
  };
  return { state, issue };
}

describe('StreamTokenKeeper', () => {
  it('hands out the token it holds while it is good, and a new one near expiry', async () => {
    const clock = new TestClock();
    const { state, issue } = issuer(clock);
    const keeper = new StreamTokenKeeper(issue, clock);
    expect((await keeper.fresh()).token).toBe('t1');
    clock.time += 500_000; // 100 s left, more than the one-minute margin
    expect((await keeper.fresh()).token).toBe('t1');
    clock.time += 50_000; // 50 s left
    expect((await keeper.fresh()).token).toBe('t2');
    expect(state.calls).toBe(2);
  });

  it('renews at once when asked, whatever the held token says (a stream was refused)', async () => {
    const clock = new TestClock();
    const { issue } = issuer(clock);
    const keeper = new StreamTokenKeeper(issue, clock);
    await keeper.fresh();
    expect((await keeper.renew()).token).toBe('t2');
  });

  it('shares one request among callers that need a token at the same moment', async () => {
    const clock = new TestClock();
    const { state, issue } = issuer(clock);
    const keeper = new StreamTokenKeeper(issue, clock);
    const tokens = await Promise.all([keeper.fresh(), keeper.renew(), keeper.fresh()]);
    expect(tokens.map(t => t.token)).toEqual(['t1', 't1', 't1']);
    expect(state.calls).toBe(1);
  });

  it('renews before expiry while held, so the cookie is never stale, and stops when released', async () => {
    const clock = new TestClock();
    const { state, issue } = issuer(clock);
    const keeper = new StreamTokenKeeper(issue, clock);
    const release = keeper.hold();
    await keeper.fresh();
    await clock.advance(539_999); // renewal is due one minute before the 600 s expiry
    expect(state.calls).toBe(1);
    await clock.advance(1);
    expect(state.calls).toBe(2);
    expect((await keeper.fresh()).token).toBe('t2');
    await clock.advance(540_000);
    expect(state.calls).toBe(3);

    release();
    expect(clock.pending()).toBe(0);
    await clock.advance(3_600_000);
    expect(state.calls).toBe(3);
  });

  it('uses a fifth of a short lifetime as the margin', async () => {
    const clock = new TestClock();
    const { state, issue } = issuer(clock, 100_000);
    const keeper = new StreamTokenKeeper(issue, clock);
    keeper.hold();
    await keeper.fresh();
    await clock.advance(79_999);
    expect(state.calls).toBe(1);
    await clock.advance(1);
    expect(state.calls).toBe(2);
  });

  it('tries a failed renewal again shortly while held, and recovers', async () => {
    const clock = new TestClock();
    const { state, issue } = issuer(clock);
    const keeper = new StreamTokenKeeper(issue, clock);
    keeper.hold();
    await keeper.fresh();
    state.failing = true;
    await clock.advance(540_000);
    expect(state.calls).toBe(2);
    await clock.advance(RETRY_MS);
    expect(state.calls).toBe(3);
    state.failing = false;
    await clock.advance(RETRY_MS);
    expect(state.calls).toBe(4);
    expect((await keeper.fresh()).token).toBe('t4');
  });

  it('passes a failure on to the caller that needed the token', async () => {
    const clock = new TestClock();
    const { state, issue } = issuer(clock);
    state.failing = true;
    const keeper = new StreamTokenKeeper(issue, clock);
    await expect(keeper.fresh()).rejects.toThrow('network');
    state.failing = false;
    expect((await keeper.fresh()).token).toBe('t2');
  });
});
