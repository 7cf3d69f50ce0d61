'use client';

import { useEffect, useState } from 'react';
import { useRouter } from 'next/navigation';
import { request } from '@/lib/browser-api';
import type { ApiError, Order } from '@/lib/types';
import { GeneralErrors } from './FormErrors';
import { StripeCard } from './StripeCard';

// The live countdown and the Pay button of an order awaiting payment. With a
// publishable key the card goes through Stripe's card input; without
// it (development: nothing from outside loads here) payment uses the test
// card token, which the payments service's Stripe peer accepts.
//
// The first render uses the server's clock (renderedAt), so server and
// browser render the same text and React hydrates without a mismatch; the
// browser's clock takes over in the effect.
export function OrderPayment({ order, renderedAt, publishableKey }: { order: Order; renderedAt: number; publishableKey: string }) {
  const router = useRouter();
  const [left, setLeft] = useState(() => secondsLeft(order.expiresAt, renderedAt));
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const tick = () => setLeft(secondsLeft(order.expiresAt, Date.now()));
    tick();
    const timer = setInterval(tick, 1000);
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

  // Screen readers hear the minutes left and the end, not every second.
  const announcement = left <= 0 ? 'The order has expired.' : `${Math.ceil(left / 60)} minute${left > 60 ? 's' : ''} left to pay.`;
  const live = (
    <p className="sr-only" aria-live="polite">
      {announcement}
    </p>
  );
  // The live region stays one element across the end, so the end is announced.
  return (
    <div className="pay">
      {live}
      {left <= 0 ? (
        <p className="status expired">Order Expired</p>
      ) : (
        <>
          <p className="countdown">
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
        </>
      )}
    </div>
  );
}

function secondsLeft(expiresAt: string, now: number): number {
  return Math.max(0, Math.round((new Date(expiresAt).getTime() - now) / 1000));
}
