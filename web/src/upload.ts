// Uploads: files are staged (dropped or picked, each with an optional key), then sent side by side, each
// with its own progress, speed and time left, and its own answer: a job link, or the API's reason for refusing.

import { problemMessage, urls } from './api';
import { authorization, keyRefused } from './credentials';
import { byId, h, progressBar, setBar } from './dom';
import { bytes, duration, percent } from './format';
import { announce } from './announcer';
import { navigate } from './router';

interface Staged { file: File; key: HTMLInputElement; row: HTMLLIElement }

/** Upload speed over the last few seconds, so the figure follows the network rather than the average. */
class RateMeter {
  private samples: { at: number; loaded: number }[] = [];
  add(loaded: number, at = performance.now()): void {
    this.samples.push({ at, loaded });
    while (this.samples.length > 2 && at - this.samples[0].at > 3000) this.samples.shift();
  }
  bytesPerSecond(): number | undefined {
    const first = this.samples[0], last = this.samples[this.samples.length - 1];
    return first && last && last.at - first.at > 250 ? ((last.loaded - first.loaded) * 1000) / (last.at - first.at) : undefined;
  }
}

export function startUploads(): void {
  const form = byId<HTMLFormElement>('upload-form');
  const input = byId<HTMLInputElement>('file-input');
  const dropZone = byId('drop-zone');
  const stagedList = byId<HTMLUListElement>('staged');
  const button = byId<HTMLButtonElement>('upload-button');
  const priority = byId<HTMLSelectElement>('priority');
  const uploads = byId<HTMLUListElement>('uploads');
  const staged: Staged[] = [];

  const refresh = () => {
    stagedList.hidden = staged.length === 0;
    button.disabled = staged.length === 0;
    button.textContent = staged.length > 1 ? `Upload ${staged.length} files` : 'Upload';
  };

  const stage = (files: Iterable<File>) => {
    for (const file of files) {
      const key = h('input', { type: 'text', class: 'key-input', placeholder: file.name, 'aria-label': `Key for ${file.name} (optional)` });
      const row = h('li', { class: 'staged-file' },
        h('span', { class: 'file-name' }, file.name),
        h('span', { class: 'muted' }, bytes(file.size)),
        key,
        h('button', {
          type: 'button', class: 'link-button', 'aria-label': `Remove ${file.name}`,
          onclick: () => { staged.splice(staged.findIndex(s => s.row === row), 1); row.remove(); refresh(); },
        }, 'Remove'));
      staged.push({ file, key, row });
      stagedList.append(row);
    }
    refresh();
  };

  input.addEventListener('change', () => {
    stage(input.files ?? []);
    input.value = '';
  });
  dropZone.addEventListener('dragover', e => {
    e.preventDefault();
    dropZone.classList.add('dragging');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
  dropZone.addEventListener('drop', e => {
    e.preventDefault();
    dropZone.classList.remove('dragging');
    stage(e.dataTransfer?.files ?? []);
  });

  form.addEventListener('submit', e => {
    e.preventDefault();
    for (const item of staged.splice(0)) {
      item.row.remove();
      uploads.prepend(send(item.file, item.key.value.trim(), priority.value));
    }
    refresh();
  });
}

/** Sends one file; returns its row, which follows the upload to its end. */
function send(file: File, key: string, priority: string): HTMLLIElement {
  const name = key || file.name;
  const bar = progressBar(`Upload of ${name}`);
  const figures = h('span', { class: 'upload-figures' }, 'Starting…');
  const outcome = h('p', { class: 'upload-outcome' });
  outcome.hidden = true;
  const row = h('li', { class: 'upload' }, h('div', { class: 'upload-head' }, h('span', { class: 'file-name' }, name), figures), bar, outcome);

  const data = new FormData();
  if (key) data.append('key', key);
  if (priority) data.append('priority', priority);
  data.append('video', file); // last, so the server has key and priority before the bytes

  // XMLHttpRequest rather than fetch: only it reports upload progress.
  const request = new XMLHttpRequest();
  const meter = new RateMeter();
  const started = performance.now();
  let sent = started;
  request.open('POST', urls.upload);
  request.setRequestHeader('Accept', 'application/json');
  for (const [name, value] of Object.entries(authorization())) request.setRequestHeader(name, value);
  request.upload.onprogress = e => {
    if (!e.lengthComputable) return;
    meter.add(e.loaded);
    const rate = meter.bytesPerSecond();
    const value = (100 * e.loaded) / e.total;
    setBar(bar, value);
    figures.textContent = [
      `${percent(value)} of ${bytes(e.total)}`,
      rate ? `${bytes(rate)}/s` : '',
      rate ? `${duration((e.total - e.loaded) / rate)} left` : '',
    ].filter(Boolean).join(' · ');
  };
  request.upload.onload = () => {
    // The bytes are there; the server now reads the file (ffprobe) before it answers.
    sent = performance.now();
    setBar(bar, 100);
    figures.textContent = 'Checking the video…';
  };
  request.onload = () => {
    if (request.status === 202) {
      const { job_id: jobId } = JSON.parse(request.responseText) as { job_id: string };
      setBar(bar, 100);
      row.classList.add('accepted');
      const seconds = (sent - started) / 1000;
      figures.textContent = `Uploaded ${bytes(file.size)} in ${duration(seconds)}${seconds > 0.2 ? ` (${bytes(file.size / seconds)}/s)` : ''}`;
      outcome.replaceChildren('Accepted: ', jobLink(jobId, 'watch the job'));
      outcome.hidden = false;
      announce(`${name} uploaded; job started.`);
    } else {
      if (request.status === 401) keyRefused();
      const { message, jobId } = problemMessage(request.status, request.responseText);
      refuse(row, figures, outcome, message, jobId);
      announce(`${name} was refused: ${message}`);
    }
  };
  request.onerror = () => {
    refuse(row, figures, outcome, 'The upload did not reach the server (network error).');
    announce(`${name} could not be uploaded.`);
  };
  request.send(data);
  return row;
}

function refuse(row: HTMLElement, figures: HTMLElement, outcome: HTMLElement, message: string, jobId?: string): void {
  row.classList.add('refused');
  figures.textContent = 'Refused';
  outcome.replaceChildren(message, ...(jobId ? [' ', jobLink(jobId, 'details')] : []));
  outcome.hidden = false;
  outcome.setAttribute('role', 'alert');
}

function jobLink(id: string, text: string): HTMLAnchorElement {
  return h('a', { href: urls.job(id), onclick: (e: Event) => navigate(urls.job(id), e as MouseEvent) }, text);
}
