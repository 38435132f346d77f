// The HTTP API as the page uses it, all through the edge (same origin). Every URL is built here.

import type { JobJson } from './jobModel';

/** An API refusal, carrying the problem+json `detail` when the server sent one. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly jobId?: string) {
    super(message);
  }
}

export const urls = {
  stages: '/stages',
  upload: '/process',
  job: (id: string) => `/jobs/${encodeURIComponent(id)}`,
  command: (id: string, action: 'cancel' | 'retry') => `/jobs/${encodeURIComponent(id)}/${action}`,
};

/**
 * The one place a Server-Sent Events URL is made. When API keys arrive, the stream token goes in here
 * (EventSource cannot send headers), and every stream of the page gets it.
 */
export function streamUrl(params: { jobs?: string; lastEventId?: number | null }): string {
  const query = new URLSearchParams();
  if (params.jobs) query.set('jobs', params.jobs);
  if (params.lastEventId != null) query.set('lastEventId', String(params.lastEventId));
  const text = query.toString();
  return text ? `/progress/stream?${text}` : '/progress/stream';
}

/** The human sentence in a problem+json body, else a status line. */
export function problemMessage(status: number, body: string): { message: string; jobId?: string } {
  try {
    const problem = JSON.parse(body) as { detail?: string; title?: string; job_id?: string };
    return { message: problem.detail || problem.title || `The server answered HTTP ${status}.`, jobId: problem.job_id };
  } catch {
    if (status === 413) return { message: 'The file is larger than the server accepts.' };
    if (status === 0) return { message: 'The server could not be reached.' };
    return { message: `The server answered HTTP ${status}.` };
  }
}

async function refusal(response: Response): Promise<ApiError> {
  const { message, jobId } = problemMessage(response.status, await response.text());
  return new ApiError(response.status, message, jobId);
}

/** The pipeline's stage names in order, from the server's stage table. */
export async function fetchStages(): Promise<string[]> {
  const response = await fetch(urls.stages, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw await refusal(response);
  return ((await response.json()) as { name: string }[]).map(stage => stage.name);
}

export async function fetchJob(id: string): Promise<JobJson> {
  // Accept names JSON explicitly: the same URL answers a browser's navigation with the page.
  const response = await fetch(urls.job(id), { headers: { Accept: 'application/json' } });
  if (!response.ok) throw await refusal(response);
  return (await response.json()) as JobJson;
}

export async function sendCommand(id: string, action: 'cancel' | 'retry'): Promise<void> {
  const response = await fetch(urls.command(id, action), { method: 'POST', headers: { Accept: 'application/json' } });
  if (!response.ok) throw await refusal(response);
}
