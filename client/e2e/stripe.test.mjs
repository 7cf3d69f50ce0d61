// The Stripe card-input path: the client, given a publishable key at run
// time, loads Stripe.js from Stripe's address; the test serves a stand-in
// (stripe-standin.js) there and lets no request leave the machine.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BASE_URL, launch, noProblems, person, shot, signUp, sellTicket, uniqueEmail } from './helpers.mjs';

const standin = readFileSync(path.join(import.meta.dirname, 'stripe-standin.js'), 'utf8');
let browser;
let client; // a second web client server: the same build, with a publishable key
let origin;

async function freePort() {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

before(async () => {
  browser = await launch();
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  client = spawn(process.execPath, ['.next/standalone/server.js'], {
    env: { ...process.env, PORT: String(port), HOSTNAME: '127.0.0.1', API_BASE_URL: BASE_URL, STRIPE_PUBLISHABLE_KEY: 'pk_test_standin' },
    stdio: 'ignore',
  });
  for (const deadline = Date.now() + 30_000; ; ) {
    const up = await fetch(origin + '/').then((r) => r.ok, () => false);
    if (up) break;
    assert.ok(Date.now() < deadline, 'the second client server never answered');
    await new Promise((r) => setTimeout(r, 100));
  }
});
after(async () => {
  client?.kill('SIGTERM');
  await browser?.close();
});
afterEach(noProblems);

test('paying through the card input, against a stand-in for Stripe.js', async () => {
  const seller = await person(browser);
  await signUp(seller.page, uniqueEmail('card-seller'));
  const id = await sellTicket(seller.page, `Card show ${Date.now()}`, '42');

  // The buyer signs up at the gateway; the session cookie is the host's, so
  // it goes to the second server (another port) too.
  const buyer = await person(browser);
  await signUp(buyer.page, uniqueEmail('card-buyer'));
  const leaked = [];
  let served = 0;
  await buyer.context.route(/.*/, async (route) => {
    const url = new URL(route.request().url());
    if (url.href === 'https://js.stripe.com/v3/') {
      served++;
      return route.fulfill({ contentType: 'application/javascript', body: standin });
    }
    if (url.origin === origin && url.pathname.startsWith('/api/')) {
      // The ingress would route these; here the gateway answers them.
      const headers = { ...route.request().headers(), origin: BASE_URL };
      return route.fulfill({ response: await route.fetch({ url: BASE_URL + url.pathname + url.search, headers }) });
    }
    if (url.origin === origin || url.origin === new URL(BASE_URL).origin) return route.continue();
    leaked.push(url.href);
    return route.abort();
  });
  let orderId;
  for (const deadline = Date.now() + 20_000; ; ) {
    const r = await buyer.page.request.post('/api/orders', { data: { ticketId: id } });
    if (r.status() === 201) {
      orderId = (await r.json()).id;
      break;
    }
    assert.ok(Date.now() < deadline, 'the order was never taken');
    await buyer.page.waitForTimeout(200);
  }

  const page = buyer.page;
  await page.goto(`${origin}/orders/${orderId}`);
  const number = page.getByLabel('Card number');
  await number.fill('4000 0000 0000 0002');
  await page.getByRole('button', { name: 'Pay' }).click();
  await page.getByText('Your card was declined.').waitFor();
  await shot(page, 'stripe-card-declined');
  for (let i = 0; ; i++) {
    await number.fill('4242 4242 4242 4242');
    await page.getByRole('button', { name: 'Pay' }).click();
    const outcome = await Promise.race([
      page.waitForURL(/\/orders$/).then(() => 'paid'),
      page.getByText('Not Found').waitFor().then(() => 'not yet'),
    ]);
    if (outcome === 'paid') break;
    assert.ok(i < 20, 'the order never reached the payments service');
    await page.reload();
  }
  assert.ok(served > 0, 'Stripe.js was asked for (and served by the stand-in)');
  assert.deepEqual(leaked, [], 'no request leaves the machine');
  await seller.context.close();
  await buyer.context.close();
});
