// The security headers of the web client's pages (issue 13), in one place
// for next.config.mjs, proxy.ts and the tests.

// Headers every answer carries: no framing by other sites (the Purchase and
// Pay buttons must not be clickjacked), no type sniffing, and no paths or
// ids in the Referer sent to other sites.
export const staticHeaders = [
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
];

// contentSecurityPolicy is the policy of one page. Scripts run only when
// they carry the page's nonce (Next.js adds it to its own scripts) or were
// loaded by one that does ('strict-dynamic': how the card form loads
// Stripe.js when a publishable key is set; the Stripe hosts are listed too
// for browsers without 'strict-dynamic'). Styles stay 'unsafe-inline':
// React's style attributes need it, and styles cannot run code.
export function contentSecurityPolicy({ nonce, stripe, dev }) {
  const script = ["'self'", `'nonce-${nonce}'`, "'strict-dynamic'"];
  const connect = ["'self'"];
  const frame = [];
  const img = ["'self'", 'data:'];
  if (stripe) {
    script.push('https://js.stripe.com');
    connect.push('https://api.stripe.com');
    frame.push('https://js.stripe.com', 'https://hooks.stripe.com');
    img.push('https://*.stripe.com');
  }
  if (dev) {
    script.push("'unsafe-eval'"); // next dev's hot reloading evaluates code
    connect.push('ws:');
  }
  return [
    "default-src 'self'",
    `script-src ${script.join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    `img-src ${img.join(' ')}`,
    "font-src 'self'",
    `connect-src ${connect.join(' ')}`,
    `frame-src ${frame.length ? frame.join(' ') : "'none'"}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}
