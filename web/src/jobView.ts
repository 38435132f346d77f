// One job, live: overall and per-stage bars, ffmpeg's figures while transcoding, warnings, cancel and retry,
// then the result (player, quality scores, downloads).
//
// The view replays the job's whole event history (lastEventId=0 on a stream filtered to the job) and then
// follows it live: the stage bars are built from the events themselves, and the stream outlives a `done`,
// so a retried job goes on in the same view.

import { ApiError, fetchJob, sendCommand } from './api';
import { announce } from './announcer';
import { byId, copyText, h, progressBar, setBar, showText } from './dom';
import { LiveStream, type ConnectionState } from './eventStream';
import { capitalized, duration, percent } from './format';
import { applyEvent, applySnapshot, describeEvent, isFinal, newJob, type Job, type JobResult } from './jobModel';
import { variantsOf } from './manifest';
import { Player } from './player';

const STATE_LABELS = { waiting: 'Waiting', running: 'Running', done: 'Done', failed: 'Failed', cancelled: 'Cancelled' } as const;

export class JobView {
  private readonly root = byId('job-view');
  private readonly stageList = byId<HTMLOListElement>('stage-list');
  private readonly history = byId<HTMLOListElement>('history');
  private readonly cancelDialog = byId<HTMLDialogElement>('cancel-dialog');
  private readonly commandMessage = byId('command-message');
  private readonly player = new Player();
  private job: Job | null = null;
  private stream: LiveStream | null = null;
  private ticker: number | undefined;
  private shownResult: JobResult | null = null;

  constructor(private readonly connection: (state: ConnectionState) => void) {
    byId('cancel-button').addEventListener('click', () => this.cancelDialog.showModal());
    this.cancelDialog.addEventListener('close', () => {
      if (this.cancelDialog.returnValue === 'cancel') void this.command('cancel');
      this.cancelDialog.returnValue = '';
    });
    byId('retry-button').addEventListener('click', () => void this.command('retry'));
    byId('copy-link').addEventListener('click', async () => {
      this.commandMessage.textContent = (await copyText(location.href)) ? 'Link copied.' : 'Copying failed; use the address bar.';
    });
  }

  async show(id: string): Promise<void> {
    this.hide();
    const job = newJob(id);
    this.job = job;
    this.root.hidden = false;
    this.reset(id);
    try {
      applySnapshot(job, await fetchJob(id));
    } catch (error) {
      if (this.job !== job) return;
      const message = error instanceof ApiError ? error.message : 'The job could not be read.';
      showText(byId('job-missing'), message);
      byId('job-progress').hidden = true;
      return;
    }
    if (this.job !== job) return;
    document.title = `${job.key || 'Job'} · Vidline`;
    this.render();
    this.stream = new LiveStream({ jobs: id }, { event: (type, data, eventId) => this.receive(type, data, eventId), state: this.connection }, 0);
    this.ticker = window.setInterval(() => this.renderElapsed(), 1000);
  }

  hide(): void {
    this.stream?.close();
    this.stream = null;
    this.job = null;
    window.clearInterval(this.ticker);
    this.player.unload();
    this.shownResult = null;
    this.root.hidden = true;
  }

  private reset(id: string): void {
    byId('job-id').textContent = id;
    byId('job-title').textContent = 'Job';
    byId('job-missing').hidden = true;
    byId('job-progress').hidden = false;
    byId('result').hidden = true;
    this.history.replaceChildren();
    byId('history-count').textContent = '0';
    this.commandMessage.textContent = '';
    this.stageList.replaceChildren(...(this.job?.stages ?? []).map(stage =>
      h('li', { class: 'stage waiting', 'data-stage': stage.name },
        h('span', { class: 'stage-name' }, capitalized(stage.name)),
        h('span', { class: 'stage-state' }, STATE_LABELS.waiting),
        progressBar(`${capitalized(stage.name)} progress`),
        h('span', { class: 'figure stage-percent' }, '0%'))));
  }

  private receive(type: string, data: Record<string, unknown>, eventId: number | null): void {
    const job = this.job;
    if (!job || (data.job_id && data.job_id !== job.id)) return;
    const before = { status: job.status, stage: job.stage };
    if (type === 'status') applySnapshot(job, data as never);
    else applyEvent(job, type, data);
    this.record(type, data, eventId);
    this.render();
    if (job.status !== before.status) announce(`Job ${job.status}${job.status === 'processing' ? `: ${job.stage}` : ''}.`);
    else if (job.stage !== before.stage && job.status === 'processing') announce(`${capitalized(job.stage)} started.`);
    // The done event lacks the finishing time and the refreshed row; one read brings both.
    if (type === 'done') void this.refresh(job);
  }

  private async refresh(job: Job): Promise<void> {
    try {
      const json = await fetchJob(job.id);
      if (this.job !== job || json.status !== job.status) return;
      job.completedAt = json.completed_at;
      job.result = json.result ?? job.result;
      this.render();
    } catch {
      // What the events said stays on screen.
    }
  }

  private record(type: string, data: Record<string, unknown>, eventId: number | null): void {
    this.history.append(h('li', { 'data-event-id': eventId ?? '', 'data-type': type },
      h('span', { class: 'event-type' }, type), ' ', describeEvent(type, data)));
    byId('history-count').textContent = String(this.history.childElementCount);
  }

  private render(): void {
    const job = this.job;
    if (!job) return;
    const final = isFinal(job.status);
    byId('job-title').textContent = job.key || 'Untitled upload';
    const badge = byId('job-status');
    badge.className = `badge ${job.status}`;
    badge.textContent = job.status;

    setBar(byId('overall-bar'), job.progress);
    byId('overall-text').textContent = percent(job.progress);
    for (const status of ['completed', 'failed', 'cancelled']) byId('overall-bar').classList.toggle(status, job.status === status);
    // A finished job's last word is its outcome (below), not a repeat of the worker's last message.
    showText(byId('job-message'), final ? (job.status === 'completed' ? 'Finished: the outputs are published.' : '') : job.message);
    this.renderTranscoding(job);
    this.renderStages(job);
    this.renderElapsed();
    // Attempt numbers every dispatch of the job (the saga's counter); a person follows the run: 1, then one per retry.
    byId('job-run').textContent = job.run ? (job.run > 1 ? `${job.run} (retried)` : '1') : '—';
    byId('job-priority').textContent = job.priority !== undefined ? String(job.priority) : '—';
    byId('job-created').textContent = job.createdAt ? new Date(job.createdAt).toLocaleString() : '—';

    const outcome = byId('job-error');
    outcome.className = `error-box ${job.status}`;
    showText(outcome, job.status === 'failed' ? `Failed during ${job.stage}: ${job.errorMessage ?? 'no reason given'}`
      : job.status === 'cancelled' ? `Cancelled during ${job.stage}: ${job.errorMessage ?? 'by request'}` : '');
    outcome.setAttribute('role', job.status === 'failed' ? 'alert' : 'status');

    const warnings = byId('job-warnings');
    warnings.hidden = job.warnings.length === 0;
    warnings.replaceChildren(...job.warnings.map(w => h('li', {}, h('strong', {}, `${capitalized(w.stage)}: `), w.message)));

    byId('cancel-button').hidden = final;
    byId('retry-button').hidden = job.status !== 'failed';
    this.renderResult(job);
  }

  private renderTranscoding(job: Job): void {
    const t = job.transcoding;
    const figures = byId('transcode-figures');
    figures.hidden = !t || job.status !== 'processing';
    if (!t) return;
    byId('fig-frame').textContent = t.currentFrame !== undefined ? `${t.currentFrame} / ${t.frameCount ?? '?'}` : '—';
    byId('fig-fps').textContent = t.fps !== undefined ? `${t.fps.toFixed(1)} fps` : '—';
    byId('fig-speed').textContent = t.speed !== undefined ? `${t.speed.toFixed(2)}×` : '—';
    byId('fig-eta').textContent = t.etaSeconds !== undefined ? duration(t.etaSeconds) : '—';
  }

  private renderStages(job: Job): void {
    for (const stage of job.stages) {
      const item = this.stageList.querySelector<HTMLElement>(`[data-stage="${stage.name}"]`);
      if (!item) continue;
      item.className = `stage ${stage.state}`;
      item.querySelector('.stage-state')!.textContent = STATE_LABELS[stage.state];
      setBar(item.querySelector('[role=progressbar]')!, stage.progress, `${percent(stage.progress)}, ${STATE_LABELS[stage.state].toLowerCase()}`);
      item.querySelector('.stage-percent')!.textContent = percent(stage.progress);
    }
  }

  private renderElapsed(): void {
    const job = this.job;
    if (!job?.createdAt) return;
    const end = job.completedAt ? Date.parse(job.completedAt) : isFinal(job.status) ? null : Date.now();
    byId('job-elapsed').textContent = end === null ? '—' : duration((end - Date.parse(job.createdAt)) / 1000);
  }

  private renderResult(job: Job): void {
    const result = job.status === 'completed' ? job.result : null;
    byId('result').hidden = !result;
    if (!result) {
      if (this.shownResult) this.player.unload();
      this.shownResult = null;
      return;
    }
    if (this.shownResult === result) return;
    this.shownResult = result;
    if (result.hls_manifest_url) void this.player.load(result.hls_manifest_url);
    this.renderScores(result);
    void this.renderDownloads(result);
  }

  private renderScores(result: JobResult): void {
    const scores = new Map((result.quality_scores ?? []).map(s => [s.rendition, s]));
    const rows = (result.renditions ?? []).map(r => {
      const score = scores.get(r.name);
      return h('tr', {},
        h('th', { scope: 'row' }, r.name),
        h('td', {}, `${r.width}×${r.height}`),
        h('td', {}, `${r.video_bitrate_kbps + r.audio_bitrate_kbps} kb/s`),
        h('td', {}, score ? meter(score.ssim.toFixed(4), (score.ssim - 0.9) * 1000) : '—'),
        h('td', {}, score ? meter(`${score.psnr.toFixed(1)} dB`, ((score.psnr - 25) / 25) * 100) : '—'),
        h('td', {}, score ? h('span', { class: `badge ${score.passed ? 'completed' : 'failed'}` }, score.passed ? 'passed' : 'failed') : '—'));
    });
    byId('scores').querySelector('tbody')!.replaceChildren(...rows);
  }

  private async renderDownloads(result: JobResult): Promise<void> {
    const list = byId('downloads');
    const manifests = [['HLS master playlist', result.hls_manifest_url], ['DASH manifest', result.dash_manifest_url]] as const;
    const items: HTMLLIElement[] = [];
    for (const [label, url] of manifests) {
      if (!url) continue;
      const absolute = new URL(url, location.origin).href;
      const copied = h('span', { class: 'muted', role: 'status' });
      items.push(h('li', {}, h('a', { href: url, download: '' }, label),
        h('code', { class: 'url' }, absolute),
        h('button', {
          type: 'button', class: 'secondary small', 'aria-label': `Copy URL of the ${label}`,
          onclick: async () => { copied.textContent = (await copyText(absolute)) ? 'Copied' : 'Copy failed'; },
        }, 'Copy URL'), copied));
    }
    list.replaceChildren(...items);
    // Each rendition is published as its own media playlist (segments beside it): offer those.
    if (!result.hls_manifest_url) return;
    try {
      const response = await fetch(result.hls_manifest_url);
      if (!response.ok || this.shownResult !== result) return;
      for (const variant of variantsOf(await response.text(), result.hls_manifest_url)) {
        const rendition = result.renditions?.find(r => r.height === variant.height && r.width === variant.width);
        const name = rendition?.name ?? (variant.height ? `${variant.height}p` : 'rendition');
        list.append(h('li', {}, h('a', { href: variant.url, download: '' }, `${name} playlist`),
          h('span', { class: 'muted' }, [variant.width && `${variant.width}×${variant.height}`, variant.bandwidth && `${Math.round(variant.bandwidth / 1000)} kb/s`].filter(Boolean).join(' · '))));
      }
    } catch {
      // The manifest links above still work.
    }
  }

  private async command(action: 'cancel' | 'retry'): Promise<void> {
    const job = this.job;
    if (!job) return;
    const buttons = [byId<HTMLButtonElement>('cancel-button'), byId<HTMLButtonElement>('retry-button')];
    buttons.forEach(b => { b.disabled = true; });
    this.commandMessage.textContent = action === 'cancel' ? 'Cancelling…' : 'Retrying…';
    try {
      await sendCommand(job.id, action);
      this.commandMessage.textContent = action === 'cancel' ? 'Cancellation requested.' : 'Retry requested.';
    } catch (error) {
      this.commandMessage.textContent = error instanceof ApiError ? error.message : `The ${action} request did not reach the server.`;
    } finally {
      buttons.forEach(b => { b.disabled = false; });
    }
  }
}

/** A number with a small bar beside it (the figure itself is the accessible part). */
function meter(text: string, value: number): HTMLElement {
  const width = Math.max(2, Math.min(100, value));
  return h('span', { class: 'meter' }, h('span', { class: 'meter-track', 'aria-hidden': 'true' }, h('span', { class: 'meter-fill', style: `width:${width}%` })), text);
}
