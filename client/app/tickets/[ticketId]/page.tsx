import Link from 'next/link';
import { notFound } from 'next/navigation';
import { PurchaseButton } from '@/components/PurchaseButton';
import { formatPrice } from '@/lib/browser-api';
import { apiGet, currentUser } from '@/lib/server-api';
import type { Ticket } from '@/lib/types';

export default async function TicketPage({ params }: { params: Promise<{ ticketId: string }> }) {
  const { ticketId } = await params;
  const [{ status, data: ticket }, user] = await Promise.all([apiGet<Ticket>(`/api/tickets/${ticketId}`), currentUser()]);
  if (status === 404 || status === 400 || !ticket) notFound();
  const mine = user?.id === ticket.userId;
  return (
    <section className="card">
      <h1>{ticket.title}</h1>
      <p className="price">Price: {formatPrice(ticket.price)}</p>
      {ticket.orderId ? (
        <p className="status">This ticket is reserved.</p>
      ) : mine ? (
        <Link className="btn" href={`/tickets/${ticket.id}/edit`}>
          Edit
        </Link>
      ) : user ? (
        <PurchaseButton ticketId={ticket.id} />
      ) : (
        <p>
          <Link href="/auth/signin">Sign in</Link> to buy it.
        </p>
      )}
    </section>
  );
}
