// Shared set-up of the browser tests: Debian's Chromium driven by
// playwright-core (no browser download), against the platform at BASE_URL.
// Playwright gives every launch a fresh, empty profile of its own.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export const BASE_URL = process.env.BASE_URL ?? 'http://localhost:8080';
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
