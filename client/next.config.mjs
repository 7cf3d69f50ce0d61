/** @type {import('next').NextConfig} */
const nextConfig = {
  // A small self-contained server for the container image.
  output: 'standalone',
  poweredByHeader: false,
};

export default nextConfig;
