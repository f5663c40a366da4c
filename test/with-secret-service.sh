#!/usr/bin/env bash
# Runs a command with a private, unlocked gnome-keyring as the Secret Service.
# Call it inside `dbus-run-session` so the keyring lives on a throwaway bus.
set -euo pipefail

keyring_home=$(mktemp -d -t softphone-keyring.XXXXXX)
trap 'rm -rf "$keyring_home"' EXIT
export HOME="$keyring_home"

# --unlock reads the login keyring password from stdin; without it the daemon
# would wait for a prompt and keytar would find no login collection.
printf 'bench-keyring-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null

"$@"
