// One live event stream that survives dropped connections without losing or repeating an event.
//
// EventSource reconnects by itself (sending Last-Event-ID) after a network blip, but gives up for good when
// a reconnect is answered with an error page, as the edge does while the gateway restarts. Then a new
// EventSource is opened with ?lastEventId= (it cannot set the header), and the gateway replays the gap.

import { streamUrl } from './api';

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

  /** @param resumeFrom replay everything after this id first (0: the whole history of the filter). */
  constructor(private readonly filter: { jobs?: string }, private readonly handlers: StreamHandlers, resumeFrom: number | null = null) {
    this.lastId = resumeFrom;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.open();
  }

  close(): void {
    this.closed = true;
    window.clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    this.source?.close();
    this.source = null;
  }

  private open(): void {
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
        // The browser gave up on this one: open another from the last id after a growing pause.
        source.close();
        const delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)];
        this.failures++;
        window.clearTimeout(this.timer);
        this.timer = window.setTimeout(() => this.open(), delay);
      }
      this.handlers.state(navigator.onLine ? 'reconnecting' : 'offline');
    };
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
      this.open();
    }
  };

  private readonly onOffline = () => this.handlers.state('offline');
}
