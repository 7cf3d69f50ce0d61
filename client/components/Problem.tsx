import Link from 'next/link';
import type { Problem as Kind } from '@/lib/server-api';

const texts: Record<Kind, { title: string; body: string }> = {
  'not-found': { title: 'Not found', body: 'There is nothing at this address. It may have been removed, or the link is wrong.' },
  'not-allowed': { title: 'Not allowed', body: 'This belongs to another account. Sign in as its owner to see it.' },
  unavailable: {
    title: 'Unavailable',
    body: 'The platform is unavailable right now, so this cannot be shown. Nothing is lost: try again in a moment.',
  },
};

// Problem says which failure happened, so a broken platform never looks
// like an empty one.
export function Problem({ kind, what }: { kind: Kind; what?: string }) {
  const t = texts[kind];
  return (
    <section className="card problem" role="alert">
      <h1>{t.title}</h1>
      <p>{what ? `${what}: ${t.body}` : t.body}</p>
      <p>
        <Link href="/">Back to the tickets</Link>
      </p>
    </section>
  );
}
