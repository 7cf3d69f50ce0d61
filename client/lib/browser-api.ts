import type { ApiError } from './types';

export type Result<T> = { ok: true; data: T } | { ok: false; errors: ApiError[] };

// Browser calls use relative URLs: the ingress (or gateway) serves both the
// pages and the API, so the HttpOnly session cookie goes along by itself.
export async function request<T>(method: string, path: string, body?: unknown): Promise<Result<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, errors: [{ message: 'The server cannot be reached. Check your connection and retry.' }] };
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.ok) return { ok: true, data: json as T };
  const errors = (json as { errors?: ApiError[] } | null)?.errors;
  return { ok: false, errors: errors?.length ? errors : [{ message: `Request failed (${res.status})` }] };
}

export function fieldErrors(errors: ApiError[], field: string): string[] {
  return errors.filter((e) => e.field === field).map((e) => e.message);
}

export function generalErrors(errors: ApiError[]): string[] {
  return errors.filter((e) => !e.field).map((e) => e.message);
}
