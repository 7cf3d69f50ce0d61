import Link from 'next/link';
import { redirect } from 'next/navigation';
import { formatPrice } from '@/lib/browser-api';
import { apiGet, currentUser } from '@/lib/server-api';
import type { Order } from '@/lib/types';

export default async function OrdersPage() {
  if (!(await currentUser())) redirect('/auth/signin');
  const { data } = await apiGet<Order[]>('/api/orders');
  const orders = data ?? [];
  return (
    <section>
      <h1>My orders</h1>
      {orders.length === 0 ? (
        <p className="empty">No orders yet.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Ticket</th>
              <th>Price</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.id}>
                <td>{o.ticket.title}</td>
                <td>{formatPrice(o.ticket.price)}</td>
                <td>
                  <span className={`badge ${o.status.replace(':', '-')}`}>{o.status}</span>
                </td>
                <td>
                  <Link href={`/orders/${o.id}`}>Details</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
