// Failures shown as failures. Runs last (the runner takes files in name
// order, one at a time): it stops services of the stack for good.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { launch, noProblems, person, shot, signUp, sellTicket, uniqueEmail } from './helpers.mjs';

const CONTROL_URL = process.env.CONTROL_URL;

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});
afterEach(noProblems);

test('not found and not allowed are told apart', async () => {
  const seller = await person(browser);
  const other = await person(browser);
  await signUp(seller.page, uniqueEmail('owner'));
  const id = await sellTicket(seller.page, `Mine ${Date.now()}`, '9');
  await signUp(other.page, uniqueEmail('stranger'));
  // An order of the other user's, which the seller may not see.
  let orderId;
  for (const deadline = Date.now() + 20_000; ; ) {
    const r = await other.page.request.post('/api/orders', { data: { ticketId: id } });
    if (r.status() === 201) {
      orderId = (await r.json()).id;
      break;
    }
    assert.ok(Date.now() < deadline, 'the order was never taken');
    await other.page.waitForTimeout(200);
  }
  await seller.page.goto(`/orders/${orderId}`);
  await seller.page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  await shot(seller.page, 'error-not-allowed');
  for (const url of ['/tickets/000000000000000000000000', '/tickets/not-an-id', '/orders/000000000000000000000000']) {
    const res = await seller.page.goto(url);
    assert.equal(res.status(), 404, url);
    await seller.page.getByRole('heading', { name: 'Not found' }).waitFor();
  }
  await shot(seller.page, 'error-not-found');
  await seller.context.close();
  await other.context.close();
});

async function stop(service) {
  assert.ok(CONTROL_URL, 'CONTROL_URL names the dev stack control (devstack -control)');
  const r = await fetch(`${CONTROL_URL}/stop/${service}`, { method: 'POST' });
  assert.equal(r.status, 204, `stopping ${service}`);
}

test('with the orders service stopped, /orders says the platform is unavailable; without tickets, the home page does', async () => {
  const buyer = await person(browser);
  await signUp(buyer.page, uniqueEmail('outage'));
  await buyer.page.goto('/orders');
  await buyer.page.getByText('No orders yet.').waitFor();
  await stop('orders');
  // The gateway answers 502 until the service is gone for good; either way
  // the page must say the platform is unavailable, never "No orders yet".
  const unavailable = buyer.page.getByRole('heading', { name: 'Unavailable' });
  for (const deadline = Date.now() + 30_000; ; ) {
    await buyer.page.goto('/orders');
    if ((await unavailable.count()) > 0) break;
    assert.ok(Date.now() < deadline, 'the orders page never said the platform is unavailable');
    await buyer.page.waitForTimeout(250);
  }
  assert.equal(await buyer.page.getByText('No orders yet.').count(), 0);
  await shot(buyer.page, 'error-orders-unavailable');

  await stop('tickets');
  for (const deadline = Date.now() + 30_000; ; ) {
    await buyer.page.goto('/');
    if ((await unavailable.count()) > 0) break;
    assert.ok(Date.now() < deadline, 'the home page never said the platform is unavailable');
    await buyer.page.waitForTimeout(250);
  }
  assert.equal(await buyer.page.getByRole('table').count(), 0, 'no empty table under the message');
  await shot(buyer.page, 'error-home-unavailable');
  await buyer.context.close();
});
