import { notFound, redirect } from 'next/navigation';
import { TicketForm } from '@/components/TicketForm';
import { apiGet, currentUser } from '@/lib/server-api';
import type { Ticket } from '@/lib/types';

export default async function EditTicketPage({ params }: { params: Promise<{ ticketId: string }> }) {
  const { ticketId } = await params;
  const user = await currentUser();
  if (!user) redirect('/auth/signin');
  const { data: ticket } = await apiGet<Ticket>(`/api/tickets/${ticketId}`);
  if (!ticket) notFound();
  return <TicketForm ticket={ticket} />;
}
