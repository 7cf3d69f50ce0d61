'use client';

import { useEffect, useState } from 'react';
import { useRouter } from 'next/navigation';
import { request } from '@/lib/browser-api';
import type { ApiError, Order } from '@/lib/types';
import { GeneralErrors } from './FormErrors';
import { StripeCard } from './StripeCard';

const publishableKey = process.env.NEXT_PUBLIC_STRIPE_KEY ?? '';

// The live countdown and the Pay button of an order awaiting payment. With
// NEXT_PUBLIC_STRIPE_KEY the card goes through Stripe's card input; without
// it (development: nothing from outside loads here) payment uses the test
// card token, which the payments service's Stripe peer accepts.
export function OrderPayment({ order }: { order: Order }) {
  const router = useRouter();
  const [left, setLeft] = useState(() => secondsLeft(order.expiresAt));
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const timer = setInterval(() => setLeft(secondsLeft(order.expiresAt)), 1000);
    return () => clearInterval(timer);
  }, [order.expiresAt]);

  async function pay(token: string) {
    setBusy(true);
    const res = await request<{ id: string }>('POST', '/api/payments', { token, orderId: order.id });
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
      {publishableKey ? (
        <StripeCard publishableKey={publishableKey} onToken={pay} busy={busy} />
      ) : (
        <>
          <button className="btn primary" onClick={() => pay('tok_visa')} disabled={busy}>
            {busy ? 'Paying…' : 'Pay'}
          </button>
          <p className="hint">Test mode: paid with Stripe&apos;s test card.</p>
        </>
      )}
    </div>
  );
}

function secondsLeft(expiresAt: string): number {
  return Math.max(0, Math.round((new Date(expiresAt).getTime() - Date.now()) / 1000));
}
