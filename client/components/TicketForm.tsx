'use client';

import { useState } from 'react';
import { useRouter } from 'next/navigation';
import { request } from '@/lib/browser-api';
import type { ApiError, Ticket } from '@/lib/types';
import { Field } from './Field';
import { GeneralErrors } from './FormErrors';

// Sell a ticket (no ticket given) or edit one.
export function TicketForm({ ticket }: { ticket?: Ticket }) {
  const router = useRouter();
  const [title, setTitle] = useState(ticket?.title ?? '');
  const [price, setPrice] = useState(ticket ? ticket.price.toFixed(2) : '');
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    const res = ticket
      ? await request<Ticket>('PUT', `/api/tickets/${ticket.id}`, { title, price, version: ticket.version })
      : await request<Ticket>('POST', '/api/tickets', { title, price });
    if (res.ok) {
      router.push(`/tickets/${res.data.id}`);
      router.refresh();
      return;
    }
    setErrors(res.errors);
    setBusy(false);
  }

  // Tidy the price to two decimals when the field is left.
  function onBlurPrice() {
    const v = Number.parseFloat(price);
    if (!Number.isNaN(v) && /^\s*-?\d*\.?\d*\s*$/.test(price)) setPrice(v.toFixed(2));
  }

  return (
    <form className="card form" onSubmit={submit} noValidate>
      <h1>{ticket ? 'Edit ticket' : 'Sell a ticket'}</h1>
      <GeneralErrors errors={errors} />
      <Field label="Title" name="title" value={title} onChange={setTitle} errors={errors} />
      <div onBlur={onBlurPrice}>
        <Field label="Price" name="price" inputMode="decimal" value={price} onChange={setPrice} errors={errors} />
      </div>
      <button className="btn primary" type="submit" disabled={busy}>
        {busy ? 'Saving…' : ticket ? 'Save' : 'Submit'}
      </button>
    </form>
  );
}
