import { staticHeaders } from './security-headers.mjs';

/** @type {import('next').NextConfig} */
const nextConfig = {
  // A small self-contained server for the container image.
  output: 'standalone',
  poweredByHeader: false,
  // The page's Content-Security-Policy (with its nonce) comes from proxy.ts.
  async headers() {
    return [{ source: '/:path*', headers: staticHeaders }];
  },
};

export default nextConfig;
