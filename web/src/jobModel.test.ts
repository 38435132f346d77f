import { beforeAll, describe, expect, it } from 'vitest';
import { applyEvent, applySnapshot, newJob, useStages, type Job, type JobJson } from './jobModel';

// What GET /stages answers today.
beforeAll(() => useStages(['uploading', 'transcoding', 'validation', 'packaging', 'storage']));

const id = 'b7a3c4c0-0000-0000-0000-000000000001';
const states = (job: Job) => job.stages.map(s => `${s.name}:${s.state}:${s.progress}`);

function snapshot(patch: Partial<JobJson>): JobJson {
  return {
    id, key: 'clip.mp4', status: 'processing', stage: 'uploading', progress: 0, priority: 0, attempt: 1,
    created_at: '2026-11-21T12:00:00Z', updated_at: '2026-11-21T12:00:00Z', ...patch,
  };
}

describe('stage bars from events', () => {
  it('marks the stages before a progress event done, its own running at its figure, the later ones waiting', () => {
    const job = newJob(id);
    applyEvent(job, 'progress', { job_id: id, stage: 'validation', progress: 60, stage_progress: 50, message: 'scoring 480p' });
    expect(states(job)).toEqual([
      'uploading:done:100', 'transcoding:done:100', 'validation:running:50', 'packaging:waiting:0', 'storage:waiting:0',
    ]);
    expect(job.progress).toBe(60);
    expect(job.message).toBe('scoring 480p');
  });

  it('shows ffmpeg figures while transcoding and drops them at the next stage', () => {
    const job = newJob(id);
    applyEvent(job, 'progress', {
      job_id: id, stage: 'transcoding', progress: 30, stage_progress: 50,
      current_frame: 50, frame_count: 100, fps: 42.5, speed: 1.7, eta_seconds: 3,
    });
    expect(job.transcoding).toEqual({ currentFrame: 50, frameCount: 100, fps: 42.5, speed: 1.7, etaSeconds: 3 });
    applyEvent(job, 'progress', { job_id: id, stage: 'transcoding', progress: 31, stage_progress: 52, message: 'still going' });
    expect(job.transcoding?.currentFrame).toBe(50); // a report without figures keeps the last ones
    applyEvent(job, 'stage', { job_id: id, stage: 'validation', status: 'processing', attempt: 1 });
    applyEvent(job, 'progress', { job_id: id, stage: 'validation', progress: 50, stage_progress: 0 });
    expect(job.transcoding).toBeUndefined();
  });

  it('completes every stage on a completed done', () => {
    const job = newJob(id);
    applyEvent(job, 'progress', { job_id: id, stage: 'storage', progress: 90, stage_progress: 40 });
    applyEvent(job, 'done', { job_id: id, status: 'completed', result: { hls_manifest_url: '/outputs/x/master.m3u8' } });
    expect(job.stages.every(s => s.state === 'done' && s.progress === 100)).toBe(true);
    expect(job.progress).toBe(100);
    expect(job.result?.hls_manifest_url).toBe('/outputs/x/master.m3u8');
  });

  it('marks the stage a cancelled or failed job stopped in, and ignores a late report after it', () => {
    const job = newJob(id);
    applyEvent(job, 'progress', { job_id: id, stage: 'transcoding', progress: 20, stage_progress: 25 });
    applyEvent(job, 'done', { job_id: id, status: 'cancelled', error_message: 'cancelled by request' });
    applyEvent(job, 'progress', { job_id: id, stage: 'transcoding', progress: 22, stage_progress: 30 });
    expect(states(job).slice(0, 3)).toEqual(['uploading:done:100', 'transcoding:cancelled:25', 'validation:waiting:0']);
    expect(job.errorMessage).toBe('cancelled by request');
    expect(job.progress).toBe(20);
  });

  it('runs a retried job again from the stage its new run starts in', () => {
    const job = newJob(id);
    applyEvent(job, 'progress', { job_id: id, stage: 'packaging', progress: 75, stage_progress: 30 });
    applyEvent(job, 'done', { job_id: id, status: 'failed', error_message: 'disk full' });
    expect(job.stages.find(s => s.name === 'packaging')?.state).toBe('failed');

    applyEvent(job, 'stage', { job_id: id, stage: 'transcoding', status: 'processing', attempt: 2, run: 2 });
    expect(job.status).toBe('processing');
    expect(job.errorMessage).toBeNull();
    expect(job.attempt).toBe(2);
    expect(states(job)).toEqual([
      'uploading:done:100', 'transcoding:running:0', 'validation:waiting:0', 'packaging:waiting:0', 'storage:waiting:0',
    ]);
    applyEvent(job, 'progress', { job_id: id, stage: 'transcoding', progress: 12, stage_progress: 5, run: 2 });
    expect(job.stages[1]).toEqual({ name: 'transcoding', state: 'running', progress: 5 });
  });

  it('ignores a late report of a run the job has left', () => {
    const job = newJob(id);
    applyEvent(job, 'progress', { job_id: id, run: 1, stage: 'validation', progress: 55, stage_progress: 25 });
    applyEvent(job, 'done', { job_id: id, run: 1, status: 'failed', error_message: 'quality gate' });
    applyEvent(job, 'stage', { job_id: id, run: 2, stage: 'validation', status: 'processing', attempt: 1 });
    applyEvent(job, 'progress', { job_id: id, run: 2, stage: 'validation', progress: 52, stage_progress: 10 });
    applyEvent(job, 'progress', { job_id: id, run: 1, stage: 'packaging', progress: 75, stage_progress: 30 });
    expect(job.stage).toBe('validation');
    expect(job.progress).toBe(52);
    expect(job.stages.map(s => s.state)).toEqual(['done', 'done', 'running', 'waiting', 'waiting']);
  });

  it('ignores fields and stages it does not know', () => {
    const job = newJob(id);
    applyEvent(job, 'progress', { job_id: id, stage: 'uploading', progress: 5, stage_progress: 50, run: 3, stages: { uploading: 50 } });
    const before = states(job);
    applyEvent(job, 'progress', { job_id: id, stage: 'thumbnails', progress: 6, stage_progress: 10 });
    expect(states(job)).toEqual(before);
    expect(job.progress).toBe(6);
  });

  it('takes the key a stage event names', () => {
    const job = newJob(id);
    applyEvent(job, 'stage', { job_id: id, stage: 'uploading', status: 'processing', key: 'talks/keynote.mp4' });
    expect(job.key).toBe('talks/keynote.mp4');
  });
});

describe('snapshots', () => {
  it('place the job at its current stage', () => {
    const job = newJob(id);
    applySnapshot(job, snapshot({ stage: 'validation', progress: 55 }));
    expect(job.stages.map(s => s.state)).toEqual(['done', 'done', 'running', 'waiting', 'waiting']);
  });

  it('show a failed job failed at its stage, with its reason', () => {
    const job = newJob(id);
    applySnapshot(job, snapshot({ status: 'failed', stage: 'uploading', error_message: 'not a video' }));
    expect(job.stages[0].state).toBe('failed');
    expect(job.errorMessage).toBe('not a video');
  });

  it('show a completed job done everywhere', () => {
    const job = newJob(id);
    applySnapshot(job, snapshot({ status: 'completed', stage: 'storage', progress: 100 }));
    expect(job.stages.every(s => s.state === 'done')).toBe(true);
  });
});
