// next build leaves static assets out of the standalone server; copy them in
// so `node .next/standalone/server.js` serves the whole app.
import { cpSync, existsSync } from 'node:fs';

cpSync('.next/static', '.next/standalone/.next/static', { recursive: true });
if (existsSync('public')) cpSync('public', '.next/standalone/public', { recursive: true });
