import { notFound, redirect } from 'next/navigation';
import { OrderPayment } from '@/components/OrderPayment';
import { formatPrice } from '@/lib/browser-api';
import { apiGet, currentUser } from '@/lib/server-api';
import type { Order } from '@/lib/types';

export default async function OrderPage({ params }: { params: Promise<{ orderId: string }> }) {
  const { orderId } = await params;
  if (!(await currentUser())) redirect('/auth/signin');
  const { data: order } = await apiGet<Order>(`/api/orders/${orderId}`);
  if (!order) notFound();
  return (
    <section className="card">
      <h1>Order for {order.ticket.title}</h1>
      <p className="price">Price: {formatPrice(order.ticket.price)}</p>
      <p>
        Status: <span className={`badge ${order.status.replace(':', '-')}`}>{order.status}</span>
      </p>
      {order.status === 'created' || order.status === 'awaiting:payment' ? (
        <OrderPayment order={order} />
      ) : order.status === 'cancelled' ? (
        <p className="status expired">Order Expired</p>
      ) : (
        <p className="status ok">Paid. Enjoy the show!</p>
      )}
    </section>
  );
}
