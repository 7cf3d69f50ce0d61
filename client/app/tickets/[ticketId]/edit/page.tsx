import { notFound, redirect } from 'next/navigation';
import { Problem } from '@/components/Problem';
import { TicketForm } from '@/components/TicketForm';
import { apiGet, currentUser } from '@/lib/server-api';
import type { Ticket } from '@/lib/types';

export default async function EditTicketPage({ params }: { params: Promise<{ ticketId: string }> }) {
  const { ticketId } = await params;
  const user = await currentUser();
  if (!user) redirect('/auth/signin');
  const r = await apiGet<Ticket>(`/api/tickets/${encodeURIComponent(ticketId)}`);
  if (!r.ok && r.problem === 'not-found') notFound();
  if (!r.ok) return <Problem kind={r.problem} what="This ticket" />;
  // Only its seller edits it, and only while it is for sale (the API says
  // the same; this says it before the form is filled in).
  if (r.data.userId !== user.id) return <Problem kind="not-allowed" what="This ticket" />;
  if (r.data.orderId) redirect(`/tickets/${r.data.id}`);
  return <TicketForm ticket={r.data} />;
}
