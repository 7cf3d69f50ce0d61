import Link from 'next/link';
import { Problem } from '@/components/Problem';
import { Table } from '@/components/Table';
import { formatPrice } from '@/lib/format';
import { apiGet, visitorLocale } from '@/lib/server-api';
import type { Ticket } from '@/lib/types';

const PAGE = 20;

type Search = { q?: string | string[]; cursor?: string | string[] };

export default async function Home({ searchParams }: { searchParams: Promise<Search> }) {
  const sp = await searchParams;
  const q = (typeof sp.q === 'string' ? sp.q : '').trim();
  const cursor = typeof sp.cursor === 'string' ? sp.cursor : '';
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (q) query.set('q', q);
  if (cursor) query.set('cursor', cursor);
  const [r, locale] = await Promise.all([apiGet<Ticket[]>(`/api/tickets?${query}`), visitorLocale()]);
  if (!r.ok) {
    // A bad cursor is a stale link, not a missing page: show the tickets.
    return <Problem kind={r.problem === 'unavailable' ? 'unavailable' : 'not-found'} what="The tickets for sale" />;
  }
  const tickets = r.data;
  const next = r.next ? `/?${new URLSearchParams(q ? { q, cursor: r.next } : { cursor: r.next })}` : '';
  return (
    <section>
      <h1>Tickets for sale</h1>
      <form className="search" role="search" action="/" method="get">
        <label htmlFor="q">Search by title</label>
        <input id="q" name="q" type="search" defaultValue={q} maxLength={200} />
        <button className="btn" type="submit">
          Search
        </button>
      </form>
      {tickets.length === 0 ? (
        <p className="empty">{q ? `No tickets match “${q}”.` : cursor ? 'No more tickets.' : 'No tickets for sale yet.'}</p>
      ) : (
        <Table columns={['Title', 'Price']} last="Details">
          {tickets.map((t) => (
            <tr key={t.id}>
              <td>{t.title}</td>
              <td>{formatPrice(t.price, locale)}</td>
              <td>
                <Link href={`/tickets/${t.id}`}>View</Link>
              </td>
            </tr>
          ))}
        </Table>
      )}
      {(cursor || next) && (
        <nav className="pager" aria-label="Pages">
          {cursor && <Link href={q ? `/?${new URLSearchParams({ q })}` : '/'}>First page</Link>}
          {next && <Link href={next}>Next page</Link>}
        </nav>
      )}
    </section>
  );
}
