// Shared set-up of the browser tests: Debian's Chromium driven by
// playwright-core (no browser download), against the platform at BASE_URL.
// Playwright gives every launch a fresh, empty profile of its own.
// CA_FILE: a PEM certificate (a dev cluster's self-signed one, or a private
// CA) that Chromium trusts for this run, and nothing else besides its roots.
// EXPIRATION_WINDOW: the platform's order window; the expiry test runs only
// when it is at most a minute.
import { chromium } from 'playwright-core';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import path from 'node:path';

export const BASE_URL = process.env.BASE_URL ?? 'http://localhost:8080';
export const CA_FILE = process.env.CA_FILE ?? '';

// seconds parses a Go duration such as 20s, 10m or 1h30m.
export function seconds(d) {
  const unit = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const [, n, u] of d.matchAll(/([0-9.]+)(ms|h|m|s)/g)) total += Number(n) * unit[u];
  return total;
}
export const WINDOW_SECONDS = seconds(process.env.EXPIRATION_WINDOW ?? '15m');

// spkiHash is how Chromium names a public key it is told to accept: the
// base64 SHA-256 of the certificate's SubjectPublicKeyInfo. Accepting the
// key of the given certificate is trusting that certificate (or CA) only,
// unlike ignoring every certificate error.
export function spkiHash(pemFile) {
  const cert = new X509Certificate(readFileSync(pemFile));
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}
export const SHOTS = path.resolve(process.env.SCREENSHOT_DIR ?? 'test-results/screenshots');
mkdirSync(SHOTS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(CA_FILE ? [`--ignore-certificate-errors-spki-list=${spkiHash(CA_FILE)}`] : []),
    ],
  });
}

export const DESKTOP = { width: 1100, height: 760 };
export const PHONE = { width: 360, height: 740 };

// Every console error and uncaught page error of every page, so that a test
// fails on what React logs (a hydration mismatch, a key warning) even when
// the page looks right. The only ones expected are the browser's notes about
// API answers of 4xx, which the pages show to the visitor as form errors.
const problems = [];
export const allowedConsole = [/Failed to load resource: the server responded with a status of 4\d\d/];

// A person: their own browser context (cookies) and page.
export async function person(browser, { viewport = DESKTOP, locale = 'en-US' } = {}) {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport, locale });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => {
    if (m.type() === 'error' && !allowedConsole.some((re) => re.test(m.text()))) problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  return { context, page };
}

// noProblems fails the test that caused any console or page error.
export function noProblems() {
  const seen = problems.splice(0);
  assert.deepEqual(seen, [], 'no console errors and no page errors');
}

// axe-core (from npm, injected into the page) on the page as it is now; any
// serious or critical violation fails.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export async function checkA11y(page, name) {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(violations, [], `axe on ${name} (${page.url()})`);
}

// fitsWidth fails when the page scrolls sideways (content wider than the
// viewport, as on a 360 px phone).
export async function fitsWidth(page, name) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${name}: the page is ${scroll} px wide in a ${width} px window`);
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

export function uniqueEmail(prefix) {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@test.io`;
}

export const PASSWORD = 'Passw0rd!';

export async function signUp(page, email) {
  await page.goto('/auth/signup');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign Up' }).click();
  await page.getByRole('link', { name: 'Sign Out' }).waitFor();
}

export async function sellTicket(page, title, price) {
  await page.goto('/tickets/new');
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByLabel('Price', { exact: true }).fill(price);
  await page.getByRole('button', { name: 'Submit' }).click();
  await page.getByRole('heading', { name: title }).waitFor();
  return page.url().split('/').pop();
}
