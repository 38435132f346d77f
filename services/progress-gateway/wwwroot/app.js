// Vidline dashboard: upload form + live job list fed by one EventSource on /progress/stream.
// The stream starts with a `status` snapshot per job, then sends progress/stage/warning/done events;
// EventSource resumes with Last-Event-ID by itself after a dropped connection.
'use strict';

const jobsList = document.getElementById('jobs');
const template = document.getElementById('job-template');
const rows = new Map(); // job id -> { element, job }

// ------------------------------------------------------------------------------------------- upload

const form = document.getElementById('upload');
const uploadProgress = document.getElementById('upload-progress');
const uploadMessage = document.getElementById('upload-message');

form.addEventListener('submit', event => {
  event.preventDefault();
  const data = new FormData(form);
  if (!data.get('key')) data.delete('key');

  // XMLHttpRequest rather than fetch: it reports upload progress, which matters for large videos.
  const request = new XMLHttpRequest();
  request.open('POST', '/process');
  request.upload.onprogress = e => { if (e.lengthComputable) uploadProgress.value = (100 * e.loaded) / e.total; };
  request.onload = () => {
    finishUpload();
    if (request.status === 202) {
      const { job_id: jobId } = JSON.parse(request.responseText);
      uploadMessage.textContent = `Uploaded: job ${jobId}`;
      form.reset();
      ensureRow(jobId);
      refreshJob(jobId);
    } else {
      uploadMessage.textContent = `Upload failed: ${problemText(request.responseText, request.status)}`;
    }
  };
  request.onerror = () => { finishUpload(); uploadMessage.textContent = 'Upload failed: network error'; };

  form.querySelector('button').disabled = true;
  uploadProgress.hidden = false;
  uploadProgress.value = 0;
  uploadMessage.textContent = 'Uploading…';
  request.send(data);
});

function finishUpload() {
  form.querySelector('button').disabled = false;
  uploadProgress.hidden = true;
}

// ------------------------------------------------------------------------------------------- live feed

const connection = document.getElementById('connection');
const source = new EventSource('/progress/stream');

source.onopen = () => setConnection('live', 'live');
source.onerror = () => setConnection('down', source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…');

source.addEventListener('status', e => {
  const job = JSON.parse(e.data);
  update(job.id, job);
});

source.addEventListener('progress', e => {
  const p = JSON.parse(e.data);
  update(p.job_id, { stage: p.stage, progress: p.progress }, row => {
    row.message = p.message;
    row.live = liveFigures(p);
  });
});

source.addEventListener('stage', e => {
  const s = JSON.parse(e.data);
  const patch = { status: s.status, stage: s.stage, attempt: s.attempt };
  if (s.key) patch.key = s.key;
  update(s.job_id, patch, row => { row.live = ''; });
});

source.addEventListener('warning', e => {
  const w = JSON.parse(e.data);
  update(w.job_id, {}, row => { row.warning = `${w.stage}: ${w.message}`; });
});

source.addEventListener('done', e => {
  const d = JSON.parse(e.data);
  const patch = { status: d.status, error_message: d.error_message, result: d.result };
  if (d.status === 'completed') patch.progress = 100;
  update(d.job_id, patch, row => { row.live = ''; });
});

function setConnection(state, text) {
  connection.className = `connection ${state}`;
  connection.textContent = text;
}

// ------------------------------------------------------------------------------------------- rows

function ensureRow(id) {
  let row = rows.get(id);
  if (row) return row;
  const element = template.content.firstElementChild.cloneNode(true);
  element.querySelector('.cancel').addEventListener('click', () => command(id, 'cancel'));
  element.querySelector('.retry').addEventListener('click', () => command(id, 'retry'));
  row = { element, job: { id, key: '', status: 'pending', stage: '', progress: 0 }, message: '', live: '', warning: '' };
  rows.set(id, row);
  jobsList.prepend(element); // newest on top
  document.getElementById('empty').hidden = true;
  return row;
}

/** Merges what an event says into the row and redraws it. A job first seen through an event is fetched in full. */
function update(id, patch, extra) {
  const known = rows.has(id);
  const row = ensureRow(id);
  Object.assign(row.job, patch);
  if (extra) extra(row);
  render(row);
  if (!known && patch.key === undefined) refreshJob(id);
}

async function refreshJob(id) {
  const response = await fetch(`/jobs/${id}`);
  if (!response.ok) return;
  const job = await response.json();
  const row = ensureRow(id);
  // Progress from the live feed may already be ahead of this read; never show it going back.
  Object.assign(row.job, job, { progress: Math.max(row.job.progress ?? 0, job.progress ?? 0) });
  render(row);
}

function render({ element, job, message, live, warning }) {
  const status = job.status ?? 'pending';
  const progress = Number(job.progress ?? 0);
  element.className = `job ${status}`;
  element.querySelector('.job-key').textContent = job.key || '(untitled upload)';
  const badge = element.querySelector('.badge');
  badge.className = `badge ${status}`;
  badge.textContent = status;
  element.querySelector('.job-id').textContent = job.id;
  element.querySelector('.job-stage').textContent = job.stage || '—';
  element.querySelector('.job-live').textContent = live ? ` · ${live}` : '';
  element.querySelector('.bar-fill').style.width = `${progress}%`;
  element.querySelector('.bar-label').textContent = `${progress.toFixed(1)}%`;
  element.querySelector('.job-message').textContent = message || latestMessage(job);
  showText(element.querySelector('.job-warning'), warning);
  showText(element.querySelector('.job-error'), job.error_message);
  renderLinks(element.querySelector('.job-links'), status === 'completed' ? job.result : null);

  const final = ['completed', 'failed', 'cancelled'].includes(status);
  element.querySelector('.cancel').hidden = final;
  element.querySelector('.retry').hidden = status !== 'failed';
}

function renderLinks(container, result) {
  container.replaceChildren();
  if (!result) return;
  for (const [label, url] of [['HLS', result.hls_manifest_url], ['DASH', result.dash_manifest_url]]) {
    if (!url) continue;
    const link = document.createElement('a');
    link.href = url;
    link.textContent = label;
    link.target = '_blank';
    container.append(link);
  }
}

function showText(element, text) {
  element.hidden = !text;
  element.textContent = text || '';
}

function latestMessage(job) {
  const latest = job.latest_events?.find(e => e.message);
  return latest ? latest.message : '';
}

/** "48.5 fps · 1.9× · ETA 0:12" from whichever ffmpeg figures the event carries. */
function liveFigures(p) {
  const parts = [];
  if (p.fps != null) parts.push(`${p.fps.toFixed(1)} fps`);
  if (p.speed != null) parts.push(`${p.speed.toFixed(2)}×`);
  if (p.current_frame != null && p.frame_count != null) parts.push(`frame ${p.current_frame}/${p.frame_count}`);
  if (p.eta_seconds != null) parts.push(`ETA ${formatDuration(p.eta_seconds)}`);
  return parts.join(' · ');
}

function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

// ------------------------------------------------------------------------------------------- commands

async function command(id, action) {
  const row = rows.get(id);
  const buttons = row.element.querySelectorAll('button');
  buttons.forEach(b => { b.disabled = true; });
  try {
    const response = await fetch(`/jobs/${id}/${action}`, { method: 'POST' });
    if (!response.ok) row.warning = `${action} failed: ${problemText(await response.text(), response.status)}`;
    render(row);
  } finally {
    buttons.forEach(b => { b.disabled = false; });
  }
}

function problemText(body, status) {
  try {
    const problem = JSON.parse(body);
    return problem.detail || problem.title || `HTTP ${status}`;
  } catch {
    return `HTTP ${status}`;
  }
}
