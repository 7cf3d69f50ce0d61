'use client';

import { useState } from 'react';
import { useRouter } from 'next/navigation';
import { request } from '@/lib/browser-api';
import type { ApiError, Order } from '@/lib/types';
import { GeneralErrors } from './FormErrors';

export function PurchaseButton({ ticketId }: { ticketId: string }) {
  const router = useRouter();
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);

  async function purchase() {
    setBusy(true);
    const res = await request<Order>('POST', '/api/orders', { ticketId });
    if (res.ok) {
      router.push(`/orders/${res.data.id}`);
      return;
    }
    setErrors(res.errors);
    setBusy(false);
  }

  return (
    <div>
      <GeneralErrors errors={errors.map((e) => ({ message: e.message }))} />
      <button className="btn primary" onClick={purchase} disabled={busy}>
        {busy ? 'Reserving…' : 'Purchase'}
      </button>
    </div>
  );
}
