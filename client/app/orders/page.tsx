import Link from 'next/link';
import { redirect } from 'next/navigation';
import { Problem } from '@/components/Problem';
import { Table } from '@/components/Table';
import { formatPrice } from '@/lib/format';
import { apiGet, currentUser, visitorLocale } from '@/lib/server-api';
import type { Order } from '@/lib/types';

export default async function OrdersPage() {
  if (!(await currentUser())) redirect('/auth/signin');
  const [r, locale] = await Promise.all([apiGet<Order[]>('/api/orders'), visitorLocale()]);
  if (!r.ok) return <Problem kind={r.problem} what="Your orders" />;
  const orders = r.data;
  return (
    <section>
      <h1>My orders</h1>
      {orders.length === 0 ? (
        <p className="empty">No orders yet.</p>
      ) : (
        <Table columns={['Ticket', 'Price', 'Status']} last="Details">
          {orders.map((o) => (
            <tr key={o.id}>
              <td>{o.ticket.title}</td>
              <td>{formatPrice(o.ticket.price, locale)}</td>
              <td>
                <span className={`badge ${o.status.replace(':', '-')}`}>{o.status}</span>
              </td>
              <td>
                <Link href={`/orders/${o.id}`}>Details</Link>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
