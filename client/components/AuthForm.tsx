'use client';

import { useState } from 'react';
import { request } from '@/lib/browser-api';
import type { ApiError } from '@/lib/types';
import { Field } from './Field';
import { GeneralErrors } from './FormErrors';

export function AuthForm({ mode }: { mode: 'signup' | 'signin' }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);
  const title = mode === 'signup' ? 'Sign Up' : 'Sign In';

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    const res = await request('POST', `/api/users/${mode}`, { email, password });
    if (res.ok) {
      // A full load, so the server-rendered header sees the new session.
      window.location.assign('/');
      return;
    }
    setErrors(res.errors);
    setBusy(false);
  }

  return (
    <form className="card form" onSubmit={submit} noValidate>
      <h1>{title}</h1>
      <GeneralErrors errors={errors} />
      <Field label="Email" name="email" type="email" autoComplete="email" value={email} onChange={setEmail} errors={errors} />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
        value={password}
        onChange={setPassword}
        errors={errors}
      />
      {mode === 'signup' && (
        <p className="hint">8–64 characters with an upper-case letter, a lower-case letter, a digit and a special character.</p>
      )}
      <button className="btn primary" type="submit" disabled={busy}>
        {busy ? 'Please wait…' : title}
      </button>
    </form>
  );
}
