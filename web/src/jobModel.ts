// A job as the page knows it, and how each Server-Sent Event changes it.
// Fields the page does not know are ignored, so new ones on the wire (e.g. a retry's `run`) break nothing.

/** The pipeline's stages in order, as the server's stage table names them (GET /stages); set once at start. */
let stageNames: readonly string[] = [];

export function useStages(names: readonly string[]): void {
  stageNames = names;
}
export const STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];
export type StageState = 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Rendition { name: string; width: number; height: number; video_bitrate_kbps: number; audio_bitrate_kbps: number }
export interface QualityScore { rendition: string; ssim: number; psnr: number; vmaf?: number | null; passed: boolean }
export interface JobResult {
  hls_manifest_url?: string | null;
  dash_manifest_url?: string | null;
  renditions?: Rendition[];
  quality_scores?: QualityScore[];
}

/** GET /jobs/{id} and the `status` snapshot event. */
export interface JobJson {
  id: string;
  key: string;
  status: Status;
  stage: string;
  progress: number;
  priority: number;
  run?: number;
  attempt: number;
  created_at: string;
  updated_at: string;
  completed_at?: string | null;
  error_message?: string | null;
  result?: JobResult | null;
}

export interface Transcoding { currentFrame?: number; frameCount?: number; fps?: number; speed?: number; etaSeconds?: number }
export interface StageView { name: string; state: StageState; progress: number }
export interface HistoryEntry { id: number; type: string; stage?: string; text: string }

export interface Job {
  id: string;
  key: string;
  status: Status;
  stage: string;
  progress: number;
  priority?: number;
  /** The run (a retry starts a new one) the page shows; events of an earlier run are history. */
  run?: number;
  attempt?: number;
  createdAt?: string;
  completedAt?: string | null;
  errorMessage?: string | null;
  result?: JobResult | null;
  message: string;
  transcoding?: Transcoding;
  warnings: { stage: string; message: string }[];
  stages: StageView[];
}

export const isFinal = (status: string) => status === 'completed' || status === 'failed' || status === 'cancelled';

export function newJob(id: string): Job {
  return {
    id, key: '', status: 'pending', stage: '', progress: 0, message: '', warnings: [],
    stages: stageNames.map(name => ({ name, state: 'waiting', progress: 0 })),
  };
}

/** Takes a JSON view of the job (API read or `status` snapshot) as the truth at its moment. */
export function applySnapshot(job: Job, json: JobJson): void {
  Object.assign(job, {
    key: json.key, status: json.status, stage: json.stage, progress: json.progress, priority: json.priority,
    run: json.run ?? job.run, attempt: json.attempt, createdAt: json.created_at, completedAt: json.completed_at,
    errorMessage: json.error_message, result: json.result,
  });
  // A snapshot tells the current stage, not each stage's own figure: earlier ones are done, later ones waiting.
  if (json.status === 'completed') setAllDone(job);
  else enterStage(job, json.stage);
  if (isFinal(json.status)) finishStage(job, json.status);
}

type Payload = Record<string, unknown>;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Applies one event (`progress`, `stage`, `warning`, `done`; `status` goes through applySnapshot). */
export function applyEvent(job: Job, type: string, data: Payload): void {
  // A late report from a run the job has left (a worker of the failed run still finishing) changes nothing.
  const run = num(data.run);
  if (run !== undefined) {
    if (job.run !== undefined && run < job.run) return;
    job.run = run;
  }
  switch (type) {
    case 'progress': {
      const stage = str(data.stage) ?? job.stage;
      if (isFinal(job.status)) return; // a late report from a stopped worker changes nothing
      job.stage = stage;
      job.progress = num(data.progress) ?? job.progress;
      job.message = str(data.message) ?? job.message;
      enterStage(job, stage, num(data.stage_progress));
      // ffmpeg's figures come with some transcoding reports; the others keep the last ones on screen.
      if (stage !== 'transcoding') job.transcoding = undefined;
      else if (data.current_frame !== undefined) {
        job.transcoding = {
          currentFrame: num(data.current_frame), frameCount: num(data.frame_count), fps: num(data.fps),
          speed: num(data.speed), etaSeconds: num(data.eta_seconds),
        };
      }
      break;
    }
    case 'stage': {
      const status = str(data.status) as Status | undefined;
      const stage = str(data.stage) ?? job.stage;
      if (str(data.key)) job.key = str(data.key)!;
      job.attempt = num(data.attempt) ?? job.attempt;
      if (status && !isFinal(status)) {
        if (isFinal(job.status)) {
          // A retry: the job runs again from this stage.
          job.errorMessage = null;
          job.result = null;
          job.completedAt = null;
        }
        job.status = status;
        job.stage = stage;
        // A stage that (re)starts begins at zero; one already running keeps its figure.
        const running = job.stages.find(s => s.name === stage)?.state === 'running';
        enterStage(job, stage, running ? undefined : 0);
      }
      break;
    }
    case 'warning':
      job.warnings.push({ stage: str(data.stage) ?? '', message: str(data.message) ?? '' });
      break;
    case 'done': {
      const status = (str(data.status) as Status | undefined) ?? job.status;
      job.status = status;
      job.errorMessage = str(data.error_message) ?? null;
      job.result = (data.result as JobResult | null | undefined) ?? null;
      job.transcoding = undefined;
      if (status === 'completed') setAllDone(job);
      finishStage(job, status);
      break;
    }
  }
}

/** The stage is running (at `progress`, if known); the ones before it are done, the ones after it wait. */
function enterStage(job: Job, stage: string, progress?: number): void {
  const index = stageNames.indexOf(stage);
  if (index < 0) return;
  job.stages.forEach((s, i) => {
    if (i < index) Object.assign(s, { state: 'done', progress: 100 });
    else if (i > index) Object.assign(s, { state: 'waiting', progress: 0 });
    else if (progress === undefined) s.state = 'running';
    else Object.assign(s, { state: progress >= 100 ? 'done' : 'running', progress });
  });
}

function setAllDone(job: Job): void {
  job.progress = 100;
  job.stages.forEach(s => Object.assign(s, { state: 'done', progress: 100 }));
}

/** A failed or cancelled job marks the stage it stopped in. */
function finishStage(job: Job, status: Status): void {
  if (status !== 'failed' && status !== 'cancelled') return;
  const current = job.stages.find(s => s.name === job.stage) ?? job.stages.find(s => s.state === 'running');
  if (current) current.state = status;
}

/** One line for the event history list. */
export function describeEvent(type: string, data: Payload): string {
  const stage = str(data.stage);
  switch (type) {
    case 'progress': return `${stage}: ${str(data.message) ?? ''} (${num(data.progress)?.toFixed(1) ?? '?'}%)`;
    case 'stage': return `${str(data.status)} → ${stage}${(num(data.run) ?? 1) > 1 ? ` (run ${num(data.run)})` : ''}`;
    case 'warning': return `warning in ${stage}: ${str(data.message) ?? ''}`;
    case 'done': return `${str(data.status)}${str(data.error_message) ? `: ${str(data.error_message)}` : ''}`;
    default: return type;
  }
}
