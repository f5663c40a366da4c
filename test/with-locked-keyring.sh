#!/usr/bin/env bash
# Runs a command with a gnome-keyring Secret Service that cannot store secrets.
# Call it inside `dbus-run-session`, with HOME set to a throwaway folder:
#   locked         the "login" collection exists but is locked
#   no-collection  the daemon runs without --unlock, so no "login" collection exists
set -euo pipefail

mode=$1
shift

if [[ "$mode" == locked ]]; then
  printf 'bench-keyring-password' | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
else
  gnome-keyring-daemon --foreground --components=secrets >/dev/null 2>&1 &
fi
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true' EXIT

# Wait up to 5 s for the daemon to own org.freedesktop.secrets on the bus.
owned=false
for _ in $(seq 1 100); do
  if gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null | grep -q true; then
    owned=true
    break
  fi
  sleep 0.05
done
if [[ "$owned" != true ]]; then
  echo "gnome-keyring-daemon did not register org.freedesktop.secrets within 5 s" >&2
  exit 1
fi

if [[ "$mode" == locked ]]; then
  gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
    --method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/collection/login']" >/dev/null
fi

"$@"
