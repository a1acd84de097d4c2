#!/usr/bin/env bash
# The one test command (README "Run the tests", and what .ci/run calls): on a fresh machine of this kind it installs
# what the tests need, makes sure PostgreSQL and Redis answer, then runs the whole suite. Needs no variable set.
# Arguments go to vitest (`npm test -- test/unit`). `npm run test:only` is the bare `vitest run` for a set-up machine.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else
    echo "This step needs root. Run it, then npm test again:" >&2
    echo "  sudo $*" >&2
    exit 1
  fi
}

# Debian tools the tests use as independent implementations, and the browser (never a downloaded browser build).
need=()
command -v oathtool >/dev/null || need+=(oathtool)
command -v zbarimg >/dev/null || need+=(zbar-tools)
command -v rsvg-convert >/dev/null || need+=(librsvg2-bin)
command -v chromium >/dev/null || need+=(chromium)
command -v pg_isready >/dev/null || need+=(postgresql-client)
command -v redis-cli >/dev/null || need+=(redis-tools)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages. Install them, then npm test again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Node packages: installed from the lock file when missing or older than it.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# PostgreSQL and Redis: the machine's own on 127.0.0.1, started the way the machine starts them when they are down.
# Skipped when the caller points the tests elsewhere (TEST_DATABASE_URL) or asks for the embedded suite (TEST_DB=pglite).
if [ -z "${TEST_DATABASE_URL:-}" ] && [ "${TEST_DB:-}" != pglite ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
fi
if [ -z "${REDIS_URL_TEST:-}" ]; then
  if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    echo "starting Redis"
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  export REDIS_URL_TEST="redis://127.0.0.1:6379"
fi

npm run typecheck --silent
exec npx vitest run "$@"
