import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Problem } from '@/components/Problem';
import { PurchaseButton } from '@/components/PurchaseButton';
import { formatPrice } from '@/lib/format';
import { apiGet, currentUser, visitorLocale } from '@/lib/server-api';
import type { Ticket } from '@/lib/types';

export default async function TicketPage({ params }: { params: Promise<{ ticketId: string }> }) {
  const { ticketId } = await params;
  const [r, user, locale] = await Promise.all([
    apiGet<Ticket>(`/api/tickets/${encodeURIComponent(ticketId)}`),
    currentUser(),
    visitorLocale(),
  ]);
  if (!r.ok && r.problem === 'not-found') notFound();
  if (!r.ok) return <Problem kind={r.problem} what="This ticket" />;
  const ticket = r.data;
  const mine = user?.id === ticket.userId;
  return (
    <section className="card">
      <h1>{ticket.title}</h1>
      <p className="price">Price: {formatPrice(ticket.price, locale)}</p>
      {ticket.sold ? (
        <p className="status">This ticket is sold.</p>
      ) : ticket.orderId ? (
        <p className="status">This ticket is reserved by an order awaiting payment.</p>
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
