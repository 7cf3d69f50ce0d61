import { notFound, redirect } from 'next/navigation';
import { OrderPayment } from '@/components/OrderPayment';
import { Problem } from '@/components/Problem';
import { formatPrice } from '@/lib/format';
import { apiGet, currentUser, visitorLocale } from '@/lib/server-api';
import type { Order } from '@/lib/types';

// The key is read when the page renders (STRIPE_PUBLISHABLE_KEY), so one
// build serves test mode and Stripe's card input; the build-time
// NEXT_PUBLIC_STRIPE_KEY still works.
function publishableKey(): string {
  return process.env.STRIPE_PUBLISHABLE_KEY || process.env.NEXT_PUBLIC_STRIPE_KEY || '';
}

export default async function OrderPage({ params }: { params: Promise<{ orderId: string }> }) {
  const { orderId } = await params;
  if (!(await currentUser())) redirect('/auth/signin');
  const [r, locale] = await Promise.all([apiGet<Order>(`/api/orders/${encodeURIComponent(orderId)}`), visitorLocale()]);
  if (!r.ok && r.problem === 'not-found') notFound();
  if (!r.ok) return <Problem kind={r.problem} what="This order" />;
  const order = r.data;
  return (
    <section className="card">
      <h1>Order for {order.ticket.title}</h1>
      <p className="price">Price: {formatPrice(order.ticket.price, locale)}</p>
      <p>
        Status: <span className={`badge ${order.status.replace(':', '-')}`}>{order.status}</span>
      </p>
      {order.status === 'created' || order.status === 'awaiting:payment' ? (
        // The server's clock, passed down, so the first render of the
        // countdown is the same on the server and in the browser.
        <OrderPayment order={order} renderedAt={Date.now()} publishableKey={publishableKey()} />
      ) : order.status === 'cancelled' ? (
        <p className="status expired">Order Expired</p>
      ) : (
        <p className="status ok">Paid. Enjoy the show!</p>
      )}
    </section>
  );
}
