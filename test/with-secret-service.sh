#!/usr/bin/env bash
# Runs a command with a private, unlocked gnome-keyring as the Secret Service.
# Call it inside `dbus-run-session` so the keyring lives on a throwaway bus.
set -euo pipefail

keyring_home=$(mktemp -d -t softphone-keyring.XXXXXX)
export HOME="$keyring_home"

# --unlock reads the login keyring password from stdin; without it the daemon
# would wait for a prompt and keytar would find no login collection. The daemon
# runs in the foreground as our child so that it ends with this script.
printf 'bench-keyring-password' | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true; rm -rf "$keyring_home"' EXIT

for _ in $(seq 1 100); do
  if gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null | grep -q true; then
    break
  fi
  sleep 0.05
done

"$@"
