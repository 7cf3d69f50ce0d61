import type { Metadata } from 'next';
import Link from 'next/link';
import { currentUser } from '@/lib/server-api';
import './globals.css';

export const metadata: Metadata = { title: 'Ticketing', description: 'Buy and sell tickets' };
// Every page depends on the visitor's session.
export const dynamic = 'force-dynamic';

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const user = await currentUser();
  return (
    <html lang="en">
      <body>
        <header className="header">
          <nav className="nav" aria-label="Main">
            <Link href="/" className="brand">
              GitTix
            </Link>
            <div className="links">
              {user ? (
                <>
                  <Link href="/tickets/new">Sell Tickets</Link>
                  <Link href="/tickets/mine">My Tickets</Link>
                  <Link href="/orders">My Orders</Link>
                  <span className="muted user">{user.email}</span>
                  <Link href="/auth/signout">Sign Out</Link>
                </>
              ) : (
                <>
                  <Link href="/auth/signup">Sign Up</Link>
                  <Link href="/auth/signin">Sign In</Link>
                </>
              )}
            </div>
          </nav>
        </header>
        <main className="container">{children}</main>
      </body>
    </html>
  );
}
