// The browser tests' own set-up, without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { seconds, spkiHash } from './helpers.mjs';

test('Go durations are read like the services read them', () => {
  assert.equal(seconds('20s'), 20);
  assert.equal(seconds('15m'), 900);
  assert.equal(seconds('1h30m'), 5400);
  assert.equal(seconds('500ms'), 0.5);
});

// The key Chromium is told to accept is the certificate's own: the hash
// openssl computes for the same certificate.
test('the trusted key is the given certificate\'s', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ca-'));
  try {
    const crt = path.join(dir, 'ca.crt');
    execFileSync('openssl', ['req', '-x509', '-nodes', '-newkey', 'rsa:2048', '-days', '1', '-keyout', path.join(dir, 'ca.key'),
      '-out', crt, '-subj', '/CN=ticketing.dev', '-addext', 'subjectAltName=DNS:ticketing.dev'], { stdio: 'ignore' });
    const spki = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-pubkey']);
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: spki });
    const want = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
    assert.equal(spkiHash(crt), want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
