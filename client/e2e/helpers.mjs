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

// A person: their own browser context (cookies) and page.
export async function person(browser) {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
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
