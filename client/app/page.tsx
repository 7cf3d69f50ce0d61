import Link from 'next/link';
import { apiGet } from '@/lib/server-api';
import { formatPrice } from '@/lib/browser-api';
import type { Ticket } from '@/lib/types';

export default async function Home() {
  const { data } = await apiGet<Ticket[]>('/api/tickets');
  const tickets = data ?? [];
  return (
    <section>
      <h1>Tickets for sale</h1>
      {data === null && <p className="alert">The tickets cannot be loaded right now.</p>}
      {data !== null && tickets.length === 0 ? (
        <p className="empty">No tickets for sale yet.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Title</th>
              <th>Price</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tickets.map((t) => (
              <tr key={t.id}>
                <td>{t.title}</td>
                <td>{formatPrice(t.price)}</td>
                <td>
                  <Link href={`/tickets/${t.id}`}>View</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
