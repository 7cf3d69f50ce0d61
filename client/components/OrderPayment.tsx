'use client';

import { useEffect, useState } from 'react';
import { useRouter } from 'next/navigation';
import { request } from '@/lib/browser-api';
import type { ApiError, Order } from '@/lib/types';
import { GeneralErrors } from './FormErrors';

// The live countdown and the Pay button of an order awaiting payment. In
// development there is no Stripe.js (nothing from outside loads here), so
// payment uses the payments service's test mode: Stripe's test card token.
export function OrderPayment({ order }: { order: Order }) {
  const router = useRouter();
  const [left, setLeft] = useState(() => secondsLeft(order.expiresAt));
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const timer = setInterval(() => setLeft(secondsLeft(order.expiresAt)), 1000);
    return () => clearInterval(timer);
  }, [order.expiresAt]);

  async function pay() {
    setBusy(true);
    const res = await request<{ id: string }>('POST', '/api/payments', { token: 'tok_visa', orderId: order.id });
    if (res.ok) {
      router.push('/orders');
      router.refresh();
      return;
    }
    setErrors(res.errors);
    setBusy(false);
  }

  if (left <= 0) {
    return <p className="status expired">Order Expired</p>;
  }
  return (
    <div className="pay">
      <p className="countdown" aria-live="polite">
        Time left to pay: <strong data-testid="seconds-left">{left}</strong> seconds
      </p>
      <GeneralErrors errors={errors.map((e) => ({ message: e.message }))} />
      <button className="btn primary" onClick={pay} disabled={busy}>
        {busy ? 'Paying…' : 'Pay'}
      </button>
      <p className="hint">Test mode: paid with Stripe&apos;s test card.</p>
    </div>
  );
}

function secondsLeft(expiresAt: string): number {
  return Math.max(0, Math.round((new Date(expiresAt).getTime() - Date.now()) / 1000));
}
