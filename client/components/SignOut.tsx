'use client';

import { useEffect } from 'react';
import { request } from '@/lib/browser-api';

export function SignOut() {
  useEffect(() => {
    request('POST', '/api/users/signout', {}).then(() => window.location.assign('/'));
  }, []);
  return <p className="muted">Signing you out…</p>;
}
