#!/usr/bin/env bash
# The browser tests: build the client, start the platform as `make run` does
# (on ports +3000, fresh data, 20 s orders), and drive it with Chromium.
#
# URL=https://ticketing.dev CA=infra/certs/ticketing.dev.crt scripts/browser-test.sh
# (make test-browser URL=… CA=…) drives a platform that is already running
# instead, trusting that certificate; EXPIRATION_WINDOW=10s says its orders'
# window is short enough for the expiry test (default: 15m, skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
URL=${URL:-}
CA=${CA:-}
if [[ -n "$CA" && ! -f "$CA" ]]; then echo "CA=$CA: no such file" >&2; exit 2; fi

if [[ -z "${CHROMIUM_PATH:-}" ]] && ! command -v chromium >/dev/null; then
  echo "== installing Debian's Chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-liberation ||
    { dpkg --configure -a && apt-get install -y -qq --no-install-recommends chromium fonts-liberation; }
fi

if [[ -n "$URL" ]]; then
  echo "== browser tests against $URL${CA:+ (trusting $CA)}"
  (cd client && npm ci --no-audit --no-fund --loglevel=error)
  cd client
  exec env BASE_URL="$URL" CA_FILE="$CA" EXPIRATION_WINDOW="${EXPIRATION_WINDOW:-15m}" npm run --silent test:e2e
fi

echo "== client: npm ci and next build"
(cd client && npm ci --no-audit --no-fund --loglevel=error && npm run build >/dev/null)

tmp=$(mktemp -d)
cleanup() {
  [[ -n "${stack:-}" ]] && kill -TERM "$stack" 2>/dev/null && wait "$stack" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
make --no-print-directory build devstack BIN="$tmp/bin" >/dev/null

# Every browser test user signs up from this one address.
EXPIRATION_WINDOW=20s LOG_LEVEL=warn SIGNUP_BURST=1000 "$tmp/bin/devstack" -data "$tmp/data" -bin "$tmp/bin" -port-offset 3000 \
  -client "$root/client/.next/standalone" -ingress "$root/infra/k8s/base/ingress.yaml" \
  -control 127.0.0.1:11090 >"$tmp/devstack.log" 2>&1 &
stack=$!
for _ in $(seq 1 600); do
  if curl -fsS -o /dev/null http://127.0.0.1:11080/ 2>/dev/null; then break; fi
  if ! kill -0 "$stack" 2>/dev/null; then cat "$tmp/devstack.log"; exit 1; fi
  sleep 0.2
done
echo "== browser tests against http://127.0.0.1:11080"
if ! (cd client && BASE_URL=http://127.0.0.1:11080 CONTROL_URL=http://127.0.0.1:11090 EXPIRATION_WINDOW=20s npm run --silent test:e2e); then
  echo "--- devstack log"; tail -50 "$tmp/devstack.log"; exit 1
fi
echo "screenshots: client/test-results/screenshots/"
