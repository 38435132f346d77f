// Every job of the tenant, live through one /progress/stream connection: newest first, filterable by status.

import { fetchJob, urls } from './api';
import { announce } from './announcer';
import { byId, h, progressBar, setBar } from './dom';
import { LiveStream, type ConnectionState } from './eventStream';
import { age, capitalized, percent } from './format';
import { applyEvent, applySnapshot, newJob, STATUSES, type Job, type JobJson, type Status } from './jobModel';
import { navigate } from './router';

interface Row { job: Job; element: HTMLLIElement }

export class Dashboard {
  private readonly rows = new Map<string, Row>();
  private readonly list = byId<HTMLUListElement>('job-list');
  private readonly empty = byId('jobs-empty');
  private readonly filters = byId('status-filter');
  private filter: Status | 'all' = 'all';
  private stream: LiveStream | null = null;
  private ticker: number | undefined;

  constructor(private readonly connection: (state: ConnectionState) => void) {
    this.renderFilters();
  }

  start(): void {
    if (this.stream) return;
    // A fresh connection starts with a snapshot of each job, so the list is rebuilt from it.
    this.rows.clear();
    this.list.replaceChildren();
    this.stream = new LiveStream({}, { event: (type, data) => this.receive(type, data), state: this.connection });
    this.ticker = window.setInterval(() => this.refreshAges(), 5000);
    this.refresh();
  }

  stop(): void {
    this.stream?.close();
    this.stream = null;
    window.clearInterval(this.ticker);
  }

  private receive(type: string, data: Record<string, unknown>): void {
    if (type === 'status') {
      const json = data as unknown as JobJson;
      const row = this.row(json.id, json.created_at);
      applySnapshot(row.job, json);
      this.render(row);
      return;
    }
    const id = data.job_id as string | undefined;
    if (!id) return;
    const known = this.rows.has(id);
    const row = this.row(id);
    const before = row.job.status;
    applyEvent(row.job, type, data);
    this.render(row);
    if (!known) this.fill(row);
    if (row.job.status !== before) announce(`${row.job.key || 'A job'} is ${row.job.status}.`);
  }

  /** A job first met through an event (it started after this connection opened): read the rest of it. */
  private async fill(row: Row): Promise<void> {
    try {
      const json = await fetchJob(row.job.id);
      if (!row.job.createdAt) {
        row.job.createdAt = json.created_at;
        row.job.key ||= json.key;
        row.job.priority = json.priority;
        this.render(row);
      }
    } catch {
      // The row still shows what the events said.
    }
  }

  private row(id: string, createdAt?: string): Row {
    let row = this.rows.get(id);
    if (row) return row;
    const job = newJob(id);
    job.createdAt = createdAt;
    const element = h('li', { class: 'job-row', 'data-job-id': id });
    row = { job, element };
    this.rows.set(id, row);
    this.insertByAge(row);
    return row;
  }

  /** Newest first; a job met through an event before its creation time is known started after the snapshot. */
  private insertByAge(row: Row): void {
    const createdOf = (job: Job) => (job.createdAt ? Date.parse(job.createdAt) : Number.POSITIVE_INFINITY);
    const created = createdOf(row.job);
    const older = [...this.list.children].find(element => {
      const other = this.rows.get((element as HTMLElement).dataset.jobId ?? '');
      return other !== undefined && other !== row && createdOf(other.job) < created;
    });
    this.list.insertBefore(row.element, older ?? null);
  }

  /** Updates the row in place, so a keyboard user's focus on it survives the events that keep arriving. */
  private render({ job, element }: Row): void {
    const name = job.key || 'Untitled upload';
    const link = element.firstElementChild ?? element.appendChild(h('a', {
      href: urls.job(job.id), class: 'job-link', onclick: (e: Event) => navigate(urls.job(job.id), e as MouseEvent),
    }, h('span', { class: 'job-name' }), h('span', { class: 'badge' }), h('span', { class: 'job-stage' }),
      h('span', { class: 'job-progress' }, progressBar(''), h('span', { class: 'figure' })),
      h('span', { class: 'job-age muted' })));
    const part = (selector: string) => link.querySelector<HTMLElement>(selector)!;
    element.className = `job-row ${job.status}`;
    element.hidden = this.filter !== 'all' && job.status !== this.filter;
    part('.job-name').textContent = name;
    part('.badge').className = `badge ${job.status}`;
    part('.badge').textContent = job.status;
    part('.job-stage').textContent = job.status === 'completed' ? 'Finished' : job.stage ? capitalized(job.stage) : '—';
    part('[role=progressbar]').setAttribute('aria-label', `Progress of ${name}`);
    setBar(part('[role=progressbar]'), job.progress);
    part('.job-progress .figure').textContent = percent(job.progress);
    part('.job-age').dataset.created = job.createdAt ?? '';
    part('.job-age').textContent = age(job.createdAt);
    this.refresh();
  }

  private refreshAges(): void {
    for (const cell of this.list.querySelectorAll<HTMLElement>('.job-age')) cell.textContent = age(cell.dataset.created || undefined);
  }

  private renderFilters(): void {
    for (const status of ['all', ...STATUSES] as const) {
      this.filters.append(h('button', {
        type: 'button', class: 'filter', 'data-status': status, 'aria-pressed': status === this.filter ? 'true' : 'false',
        onclick: () => this.setFilter(status),
      }, capitalized(status), ' ', h('span', { class: 'count' }, '0')));
    }
  }

  private setFilter(status: Status | 'all'): void {
    this.filter = status;
    for (const row of this.rows.values()) row.element.hidden = status !== 'all' && row.job.status !== status;
    this.refresh();
  }

  /** Counts per status, the filter buttons' state and the empty message. */
  private refresh(): void {
    const counts = new Map<string, number>([['all', this.rows.size]]);
    for (const { job } of this.rows.values()) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
    for (const button of this.filters.querySelectorAll<HTMLButtonElement>('button')) {
      const status = button.dataset.status!;
      button.setAttribute('aria-pressed', String(status === this.filter));
      button.querySelector('.count')!.textContent = String(counts.get(status) ?? 0);
    }
    const visible = [...this.rows.values()].some(r => !r.element.hidden);
    this.empty.hidden = visible;
    this.empty.textContent = this.rows.size === 0 ? 'No jobs yet. Upload a video to start one.' : `No ${this.filter} jobs.`;
  }
}
