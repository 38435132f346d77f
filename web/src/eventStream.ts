// One live event stream that survives dropped connections without losing or repeating an event.
//
// EventSource reconnects by itself (sending Last-Event-ID) after a network blip, but gives up for good when
// a reconnect is answered with an error page, as the edge does while the gateway restarts, or with 401 when
// its stream token has expired (EventSource cannot tell the two apart). Then the page gets a new stream token
// and opens a new EventSource with ?lastEventId= (it cannot set the header), and the gateway replays the gap.

import { streamTokens, streamUrl } from './api';
import type { StreamTokenKeeper } from './streamToken';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';
export const EVENT_TYPES = ['status', 'progress', 'stage', 'warning', 'done'] as const;

export interface StreamHandlers {
  event(type: string, data: Record<string, unknown>, id: number | null): void;
  state(state: ConnectionState): void;
}

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

export class LiveStream {
  private source: EventSource | null = null;
  private lastId: number | null;
  private failures = 0;
  private timer: number | undefined;
  private closed = false;
  private opening = false;
  private readonly release: () => void;

  /** @param resumeFrom replay everything after this id first (0: the whole history of the filter). */
  constructor(private readonly filter: { jobs?: string }, private readonly handlers: StreamHandlers, resumeFrom: number | null = null,
    private readonly tokens: StreamTokenKeeper = streamTokens) {
    this.lastId = resumeFrom;
    // While this stream lives, its token cookie is renewed before it expires, for the browser's own reconnects.
    this.release = tokens.hold();
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    void this.open(false);
  }

  close(): void {
    this.closed = true;
    this.release();
    window.clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    this.source?.close();
    this.source = null;
  }

  /** @param renew get a new token first: the last stream was refused, perhaps for its token. */
  private async open(renew: boolean): Promise<void> {
    if (this.closed || this.opening) return;
    this.opening = true;
    this.source = null;
    try {
      await (renew ? this.tokens.renew() : this.tokens.fresh());
    } catch {
      // No token (the network, the gateway, or a refused key, which main.ts handles): try again after a pause.
      this.retryLater();
      this.handlers.state(navigator.onLine ? 'reconnecting' : 'offline');
      return;
    } finally {
      this.opening = false;
    }
    if (this.closed) return;
    const source = new EventSource(streamUrl({ ...this.filter, lastEventId: this.lastId }));
    this.source = source;
    this.handlers.state(this.failures === 0 ? 'connecting' : 'reconnecting');
    for (const type of EVENT_TYPES) source.addEventListener(type, e => this.receive(type, e as MessageEvent<string>));
    source.onopen = () => {
      this.failures = 0;
      this.handlers.state('live');
    };
    source.onerror = () => {
      if (this.source !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up on this one (an error page, or 401 for an expired token: it cannot tell which).
        source.close();
        this.retryLater();
      }
      this.handlers.state(navigator.onLine ? 'reconnecting' : 'offline');
    };
  }

  /** Opens again from the last id, with a new token, after a growing pause. */
  private retryLater(): void {
    const delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)];
    this.failures++;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.open(true), delay);
  }

  private receive(type: string, e: MessageEvent<string>): void {
    const id = e.lastEventId ? Number(e.lastEventId) : null;
    // Snapshots (`status`) of one connection all carry the id they are current to; everything else is
    // unique by id, so an id at or below the last one seen is a repeat.
    if (type !== 'status' && id !== null && this.lastId !== null && id <= this.lastId) return;
    if (id !== null) this.lastId = Math.max(this.lastId ?? 0, id);
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(e.data) as Record<string, unknown>;
    } catch {
      return; // not an event this page understands
    }
    this.handlers.event(type, data, id);
  }

  private readonly onOnline = () => {
    // Back on the network: do not wait out the pause.
    if (this.source?.readyState === EventSource.CLOSED || !this.source) {
      window.clearTimeout(this.timer);
      void this.open(true);
    }
  };

  private readonly onOffline = () => this.handlers.state('offline');
}
