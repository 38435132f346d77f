// Plays a job's HLS output: hls.js where the browser has Media Source Extensions (it offers the quality
// choice), the browser's own HLS support otherwise. hls.js is loaded only when a result is shown.

import type Hls from 'hls.js';
import { byId, h } from './dom';

export class Player {
  private readonly video = byId<HTMLVideoElement>('player');
  private readonly quality = byId<HTMLSelectElement>('quality-select');
  private readonly status = byId('player-status');
  private hls: Hls | null = null;
  private source: string | null = null;

  constructor() {
    this.quality.addEventListener('change', () => {
      const hls = this.hls;
      if (!hls) return;
      const chosen = Number(this.quality.value); // -1: automatic
      const switching = chosen !== -1 && chosen !== hls.currentLevel;
      hls.currentLevel = chosen;
      this.status.textContent = switching ? `Switching to ${hls.levels[chosen].height}p…` : this.showing(hls);
    });
  }

  async load(manifestUrl: string): Promise<void> {
    if (this.source === manifestUrl) return;
    this.unload();
    this.source = manifestUrl;
    const { default: HlsPlayer } = await import('hls.js');
    if (this.source !== manifestUrl) return; // another job was opened meanwhile
    if (HlsPlayer.isSupported()) {
      const hls = new HlsPlayer({ capLevelToPlayerSize: false });
      this.hls = hls;
      hls.on(HlsPlayer.Events.MANIFEST_PARSED, (_, data) => {
        // Highest quality first, as people read a list of choices; the value is hls.js's level index.
        const levels = data.levels.map((level, index) => ({ level, index })).sort((a, b) => b.level.height - a.level.height);
        this.quality.replaceChildren(h('option', { value: -1 }, 'Auto'),
          ...levels.map(({ level, index }) => h('option', { value: index }, `${level.height}p · ${Math.round(level.bitrate / 1000)} kb/s`)));
        this.quality.disabled = data.levels.length < 2;
      });
      hls.on(HlsPlayer.Events.LEVEL_SWITCHED, () => { this.status.textContent = this.showing(hls); });
      hls.on(HlsPlayer.Events.ERROR, (_, data) => {
        if (data.fatal) this.status.textContent = `Playback failed: ${data.details}`;
      });
      hls.loadSource(manifestUrl);
      hls.attachMedia(this.video);
    } else if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
      this.video.src = manifestUrl;
      this.quality.disabled = true;
      this.status.textContent = 'Quality chosen by the browser';
    } else {
      this.status.textContent = 'This browser cannot play HLS; use the download links below.';
    }
  }

  private showing(hls: Hls): string {
    const level = hls.levels[hls.currentLevel];
    return level ? `Showing ${level.height}p${hls.autoLevelEnabled ? ' (auto)' : ''}` : '';
  }

  unload(): void {
    this.hls?.destroy();
    this.hls = null;
    this.source = null;
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
    this.quality.replaceChildren(h('option', { value: -1 }, 'Auto'));
    this.status.textContent = '';
  }
}
