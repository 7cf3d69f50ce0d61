import { headers } from 'next/headers';
import type { User } from './types';

// Server components call each API's Service directly, by the Ingress's path
// prefixes (API_ROUTES: "/api/users=http://auth-srv:3000,…"), forwarding the
// browser's cookie so the services see the same session. Not through the
// ingress controller: it routes by the Host header (a request for its own
// Service name gets its default backend's 404) and redirects plain HTTP for
// a TLS host (308). API_BASE_URL (a gateway) serves paths no route names,
// e.g. under `next dev` beside `make run`.
const routes = parseRoutes(process.env.API_ROUTES ?? '');
const base = process.env.API_BASE_URL ?? 'http://localhost:8080';

function parseRoutes(v: string): [string, string][] {
  const out: [string, string][] = [];
  for (const pair of v.split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    out.push([pair.slice(0, i).trim().replace(/\/$/, ''), pair.slice(i + 1).trim().replace(/\/$/, '')]);
  }
  // Longest prefix first, as the Ingress matches.
  return out.sort((a, b) => b[0].length - a[0].length);
}

// baseFor is where a call for path goes: the longest route prefix matching
// whole segments (as Prefix paths match), else API_BASE_URL.
function baseFor(path: string): string {
  const p = path.split('?')[0];
  for (const [prefix, url] of routes) {
    if (p === prefix || p.startsWith(prefix + '/')) return url;
  }
  return base;
}

// What a page can tell the visitor about a failed call. A refused connection,
// a 5xx (the gateway's 502 for a stopped service) or an answer that is not
// the API's JSON all mean the platform is unavailable — never "no data".
export type Problem = 'not-found' | 'not-allowed' | 'unavailable';

export type ApiResult<T> = { ok: true; data: T; next?: string } | { ok: false; problem: Problem; status: number };

export async function apiGet<T>(path: string): Promise<ApiResult<T>> {
  const h = await headers();
  let res: Response;
  try {
    res = await fetch(baseFor(path) + path, {
      headers: { cookie: h.get('cookie') ?? '' },
      cache: 'no-store',
    });
  } catch {
    return { ok: false, problem: 'unavailable', status: 0 };
  }
  if (!res.ok) {
    const problem: Problem =
      res.status === 404 || res.status === 400 ? 'not-found' : res.status === 401 || res.status === 403 ? 'not-allowed' : 'unavailable';
    return { ok: false, problem, status: res.status };
  }
  let data: T;
  try {
    data = (await res.json()) as T;
  } catch {
    return { ok: false, problem: 'unavailable', status: res.status };
  }
  return { ok: true, data, next: nextCursor(res.headers.get('link')) };
}

// nextCursor takes the cursor out of a `Link: <...>; rel="next"` header.
function nextCursor(link: string | null): string | undefined {
  const m = link?.match(/<([^>]*)>;\s*rel="next"/);
  if (!m) return undefined;
  return new URL(m[1], 'http://x').searchParams.get('cursor') ?? undefined;
}

export async function currentUser(): Promise<User | null> {
  const r = await apiGet<{ currentUser: User | null }>('/api/users/currentuser');
  return r.ok ? r.data.currentUser : null;
}

// The visitor's locale, from the browser's Accept-Language, so prices are
// written as the visitor reads them (and the same on server and client).
export async function visitorLocale(): Promise<string> {
  const first = (await headers()).get('accept-language')?.split(',')[0]?.split(';')[0]?.trim();
  try {
    return first ? (Intl.getCanonicalLocales(first)[0] ?? 'en-US') : 'en-US';
  } catch {
    return 'en-US';
  }
}
