'use client';

import { useEffect, useRef, useState } from 'react';

// With a publishable key, payment uses Stripe's own card input (Stripe.js
// from Stripe), which turns the card into a token for POST /api/payments.
// Nothing from outside can load on the development machines: the browser
// tests serve a stand-in for Stripe.js at its address (e2e/stripe-standin.js).
type StripeCardElement = { mount: (el: HTMLElement) => void; destroy: () => void };
type StripeJS = {
  elements: () => { create: (type: 'card') => StripeCardElement };
  createToken: (card: StripeCardElement) => Promise<{ token?: { id: string }; error?: { message?: string } }>;
};
declare global {
  interface Window {
    Stripe?: (key: string) => StripeJS;
  }
}

const STRIPE_JS = 'https://js.stripe.com/v3/';

export function StripeCard({ publishableKey, onToken, busy }: { publishableKey: string; onToken: (token: string) => void; busy: boolean }) {
  const mountRef = useRef<HTMLDivElement>(null);
  const [stripe, setStripe] = useState<StripeJS | null>(null);
  const [card, setCard] = useState<StripeCardElement | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    const ready = () => {
      if (cancelled || !window.Stripe || !mountRef.current) return;
      const s = window.Stripe(publishableKey);
      const c = s.elements().create('card');
      c.mount(mountRef.current);
      setStripe(s);
      setCard(c);
    };
    if (window.Stripe) ready();
    else {
      const script = document.createElement('script');
      script.src = STRIPE_JS;
      script.onload = ready;
      script.onerror = () => setError('The card form could not be loaded.');
      document.head.appendChild(script);
    }
    return () => {
      cancelled = true;
    };
  }, [publishableKey]);

  async function submit() {
    if (!stripe || !card) return;
    const { token, error: err } = await stripe.createToken(card);
    if (err || !token) {
      setError(err?.message ?? 'The card was refused.');
      return;
    }
    onToken(token.id);
  }

  return (
    <div className="stripe">
      <div ref={mountRef} className="card-input" />
      {error && <p className="alert">{error}</p>}
      <button className="btn primary" onClick={submit} disabled={busy || !card}>
        {busy ? 'Paying…' : 'Pay'}
      </button>
    </div>
  );
}
