#!/usr/bin/env bash
# Builds the app, then runs every test (or, with --bench, the benchmarks) inside a
# private D-Bus session with a real Secret Service.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" != "--bench" ]]; then
  npm run --silent typecheck
fi
npx electron-vite build

if [[ "${1:-}" == "--bench" ]]; then
  shift
  exec dbus-run-session -- bash test/with-secret-service.sh node_modules/.bin/vitest run --config vitest.bench.config.mts "$@"
fi

mkdir -p .tmp
rm -f .tmp/vitest-results.json
status=0
dbus-run-session -- bash test/with-secret-service.sh node_modules/.bin/vitest run \
  --reporter=default --reporter=json --outputFile.json=.tmp/vitest-results.json "$@" || status=$?

# One plain closing line, "N passed, N failed", for tools that read test totals.
node -e '
  const results = require("./.tmp/vitest-results.json");
  console.log(`${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped`);
' || true
exit "$status"
