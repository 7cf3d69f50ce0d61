import { NextResponse, type NextRequest } from 'next/server';
import { contentSecurityPolicy } from './security-headers.mjs';

// Every page gets its own nonce: Next.js reads it from the request's
// Content-Security-Policy and puts it on the scripts it renders, so no
// injected script without it can run. Pages are rendered per request anyway
// (they depend on the visitor's session), so this costs no caching.
export function proxy(request: NextRequest) {
  const nonce = btoa(crypto.randomUUID());
  const csp = contentSecurityPolicy({
    nonce,
    stripe: Boolean(process.env.NEXT_PUBLIC_STRIPE_KEY),
    dev: process.env.NODE_ENV === 'development',
  });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('Content-Security-Policy', csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('Content-Security-Policy', csp);
  return response;
}

// Pages only: the static files carry no scripts to protect.
export const config = {
  matcher: [{ source: '/((?!_next/static|_next/image|favicon.ico).*)' }],
};
