import { headers } from 'next/headers';
import type { User } from './types';

// Server components call the API through the ingress (or the local gateway),
// forwarding the browser's cookie so the services see the same session.
const base = process.env.API_BASE_URL ?? 'http://localhost:8080';

export async function apiGet<T>(path: string): Promise<{ status: number; data: T | null }> {
  const h = await headers();
  const res = await fetch(base + path, {
    headers: { cookie: h.get('cookie') ?? '' },
    cache: 'no-store',
  });
  if (!res.ok) return { status: res.status, data: null };
  return { status: res.status, data: (await res.json()) as T };
}

export async function currentUser(): Promise<User | null> {
  try {
    const { data } = await apiGet<{ currentUser: User | null }>('/api/users/currentuser');
    return data?.currentUser ?? null;
  } catch {
    return null;
  }
}
