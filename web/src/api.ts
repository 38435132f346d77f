// The HTTP API as the page uses it, all through the edge (same origin). Every URL is built here.

import { authorization, keyRefused } from './credentials';
import type { JobJson } from './jobModel';
import { StreamTokenKeeper, type IssuedToken } from './streamToken';

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
  streamToken: '/streams/token',
};

/** How long the page's stream tokens live; the keeper renews them well before. */
const STREAM_TOKEN_SECONDS = 600;

/**
 * Buys a stream token with the API key (or the one given, to check a key before keeping it). The answer sets the
 * `vidline_stream` cookie that the page's EventSource requests carry; the expiry is counted on this browser's clock
 * from the lifetime asked for, so a server clock that differs does not matter.
 */
export async function issueStreamToken(key?: string): Promise<IssuedToken> {
  const asked = Date.now();
  const response = await fetch(urls.streamToken, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...authorization(key) },
    body: JSON.stringify({ ttl_seconds: STREAM_TOKEN_SECONDS }),
  });
  if (!response.ok) throw await refusal(response, key === undefined);
  const { token } = (await response.json()) as { token: string };
  return { token, expiresAt: asked + STREAM_TOKEN_SECONDS * 1000 };
}

/** The page's one stream token, shared by its streams. */
export const streamTokens = new StreamTokenKeeper(() => issueStreamToken());

/**
 * The one place a Server-Sent Events URL is made. The stream token is not in it: it travels as the cookie, so the
 * browser's own reconnects to this URL carry whichever token is current (streamToken.ts).
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

/** The error for a refused request; a 401 for the stored key also tells the page to ask for a key again. */
async function refusal(response: Response, withStoredKey = true): Promise<ApiError> {
  if (response.status === 401 && withStoredKey) keyRefused();
  const { message, jobId } = problemMessage(response.status, await response.text());
  return new ApiError(response.status, message, jobId);
}

/** The pipeline's stage names in order, from the server's stage table. */
export async function fetchStages(): Promise<string[]> {
  const response = await fetch(urls.stages, { headers: { Accept: 'application/json', ...authorization() } });
  if (!response.ok) throw await refusal(response);
  return ((await response.json()) as { name: string }[]).map(stage => stage.name);
}

export async function fetchJob(id: string): Promise<JobJson> {
  // Accept names JSON explicitly: the same URL answers a browser's navigation with the page.
  const response = await fetch(urls.job(id), { headers: { Accept: 'application/json', ...authorization() } });
  if (!response.ok) throw await refusal(response);
  return (await response.json()) as JobJson;
}

export async function sendCommand(id: string, action: 'cancel' | 'retry'): Promise<void> {
  const response = await fetch(urls.command(id, action), { method: 'POST', headers: { Accept: 'application/json', ...authorization() } });
  if (!response.ok) throw await refusal(response);
}
