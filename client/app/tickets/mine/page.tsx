import Link from 'next/link';
import { redirect } from 'next/navigation';
import { Problem } from '@/components/Problem';
import { Table } from '@/components/Table';
import { formatPrice } from '@/lib/format';
import { apiGet, currentUser, visitorLocale } from '@/lib/server-api';
import type { Ticket } from '@/lib/types';

const PAGE = 50;

function state(t: Ticket): { label: string; className: string } {
  if (t.sold) return { label: 'Sold', className: 'complete' };
  if (t.orderId) return { label: 'Reserved', className: 'awaiting-payment' };
  return { label: 'For sale', className: 'for-sale' };
}

// A seller's own tickets in every state, from GET /api/tickets?userId=.
export default async function MyTicketsPage({ searchParams }: { searchParams: Promise<{ cursor?: string | string[] }> }) {
  const user = await currentUser();
  if (!user) redirect('/auth/signin');
  const { cursor } = await searchParams;
  const query = new URLSearchParams({ userId: user.id, limit: String(PAGE) });
  if (typeof cursor === 'string' && cursor) query.set('cursor', cursor);
  const [r, locale] = await Promise.all([apiGet<Ticket[]>(`/api/tickets?${query}`), visitorLocale()]);
  if (!r.ok) return <Problem kind={r.problem === 'unavailable' ? 'unavailable' : 'not-found'} what="Your tickets" />;
  return (
    <section>
      <h1>My tickets</h1>
      {r.data.length === 0 ? (
        <p className="empty">
          You have no tickets yet. <Link href="/tickets/new">Sell one</Link>
        </p>
      ) : (
        <Table columns={['Title', 'Price', 'State']} last="Actions">
          {r.data.map((t) => {
            const s = state(t);
            return (
              <tr key={t.id}>
                <td>
                  <Link href={`/tickets/${t.id}`}>{t.title}</Link>
                </td>
                <td>{formatPrice(t.price, locale)}</td>
                <td>
                  <span className={`badge ${s.className}`}>{s.label}</span>
                </td>
                <td>
                  {!t.orderId && (
                    <Link href={`/tickets/${t.id}/edit`} aria-label={`Edit ${t.title}`}>
                      Edit
                    </Link>
                  )}
                </td>
              </tr>
            );
          })}
        </Table>
      )}
      {r.next && (
        <nav className="pager" aria-label="Pages">
          <Link href={`/tickets/mine?${new URLSearchParams({ cursor: r.next })}`}>Next page</Link>
        </nav>
      )}
    </section>
  );
}
