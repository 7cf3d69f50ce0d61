// Issue 13, item 5: the pages carry a Content-Security-Policy, refuse to be
// framed (the Purchase and Pay buttons could otherwise be clickjacked), do
// not let the browser sniff types, and keep paths out of other sites'
// Referer; and the app still works under that policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { launch, person, signUp, sellTicket, uniqueEmail, BASE_URL } from './helpers.mjs';
import { contentSecurityPolicy } from '../security-headers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('pages carry the security headers, API answers nosniff', async () => {
  for (const path of ['/', '/auth/signin', '/auth/signup', '/orders']) {
    const res = await fetch(BASE_URL + path, { redirect: 'manual' });
    const h = res.headers;
    const csp = h.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'", "form-action 'self'"]) {
      assert.ok(csp.includes(directive), `${path}: CSP ${JSON.stringify(csp)} lacks ${directive}`);
    }
    assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/, `${path}: scripts only by nonce`);
    assert.equal(h.get('x-frame-options'), 'DENY', path);
    assert.equal(h.get('x-content-type-options'), 'nosniff', path);
    assert.equal(h.get('referrer-policy'), 'strict-origin-when-cross-origin', path);
  }
  const a = (await fetch(BASE_URL + '/auth/signin')).headers.get('content-security-policy');
  const b = (await fetch(BASE_URL + '/auth/signin')).headers.get('content-security-policy');
  assert.notEqual(a, b, 'a fresh nonce for every page');
  const api = await fetch(BASE_URL + '/api/users/currentuser');
  assert.equal(api.headers.get('x-content-type-options'), 'nosniff', 'API answers');
});

test('the app works under the policy, and another site cannot frame it', async () => {
  const { context, page } = await person(browser);
  const violations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  // Both steps need the page's scripts (client-side forms and navigation).
  await signUp(page, uniqueEmail('csp'));
  await sellTicket(page, 'Under CSP', '5');
  assert.deepEqual(violations, []);

  // Another site on this machine, served for real: Chromium does not let a
  // public page (or one Playwright made up) frame a private address at
  // all, which would prove nothing here.
  const site = createServer((_, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(`<iframe src="${BASE_URL}/" width="800" height="600"></iframe>`);
  });
  await new Promise((ok) => site.listen(0, '127.0.0.1', ok));
  const framer = await context.newPage();
  await framer.goto(`http://127.0.0.1:${site.address().port}/`, { waitUntil: 'load' });
  site.close();
  const frame = framer.frames().find((f) => f !== framer.mainFrame());
  let text = '';
  try {
    text = await frame.locator('body').innerText({ timeout: 3000 });
  } catch {
    // a blocked frame has no document to read
  }
  assert.doesNotMatch(text, /GitTix/, 'the page rendered inside another site');
  await context.close();
});

test('the policy lets Stripe.js in only when a publishable key is set', () => {
  const without = contentSecurityPolicy({ nonce: 'abc', stripe: false, dev: false });
  assert.doesNotMatch(without, /stripe/);
  assert.match(without, /frame-src 'none'/);
  const withKey = contentSecurityPolicy({ nonce: 'abc', stripe: true, dev: false });
  assert.match(withKey, /script-src [^;]*https:\/\/js\.stripe\.com/);
  assert.match(withKey, /frame-src [^;]*https:\/\/js\.stripe\.com[^;]*https:\/\/hooks\.stripe\.com/);
  assert.match(withKey, /connect-src [^;]*https:\/\/api\.stripe\.com/);
  assert.match(withKey, /frame-ancestors 'none'/);
});
