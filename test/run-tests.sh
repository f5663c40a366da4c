#!/usr/bin/env bash
# Builds the app, then runs every test (or, with --bench, the benchmarks) inside a
# private D-Bus session with a real Secret Service.
#
#   test/run-tests.sh            type-check, build, the whole suite, then the soak
#   test/run-tests.sh FILE...    type-check, build, only the given test files
#   test/run-tests.sh --bench    build, then the benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" != "--bench" ]]; then
  npm run --silent typecheck
fi
npx electron-vite build

in_secret_service() {
  dbus-run-session -- bash test/with-secret-service.sh "$@"
}

if [[ "${1:-}" == "--bench" ]]; then
  shift
  in_secret_service node_modules/.bin/vitest run --config vitest.bench.config.mts "$@"
  exit
fi

mkdir -p .tmp
rm -f .tmp/vitest-results.json .tmp/vitest-soak-results.json
status=0
in_secret_service node_modules/.bin/vitest run \
  --reporter=default --reporter=json --outputFile.json=.tmp/vitest-results.json "$@" || status=$?

# The soak (200 calls, a few minutes) runs after the rest, alone, so that it
# does not compete with other files for the two cores.
if [[ $# -eq 0 ]]; then
  in_secret_service node_modules/.bin/vitest run --config vitest.soak.config.mts \
    --reporter=default --reporter=json --outputFile.json=.tmp/vitest-soak-results.json || status=$?
fi

# One plain closing line, "N passed, N failed", for tools that read test totals.
node -e '
  const fs = require("node:fs");
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const file of [".tmp/vitest-results.json", ".tmp/vitest-soak-results.json"]) {
    if (!fs.existsSync(file)) continue;
    const results = JSON.parse(fs.readFileSync(file, "utf8"));
    totals.passed += results.numPassedTests;
    totals.failed += results.numFailedTests;
    totals.skipped += results.numPendingTests;
  }
  console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
' || true
exit "$status"
