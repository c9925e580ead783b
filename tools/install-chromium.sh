#!/bin/sh
# Install Chromium, the browser the player's tests drive (through the `playwright`
# Python package, which is told where the system's browser is).
set -e
for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null 2>&1; then exit 0; fi
done
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO=none; fi
if [ "$SUDO" != none ]; then
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null && exit 0
  elif command -v dnf >/dev/null 2>&1; then $SUDO dnf install -y chromium && exit 0
  elif command -v apk >/dev/null 2>&1; then $SUDO apk add chromium && exit 0
  elif command -v brew >/dev/null 2>&1; then brew install --cask chromium && exit 0
  fi
fi
echo "Chromium is missing and could not be installed automatically; the player's tests need it." >&2
echo "Install it: 'sudo apt-get install chromium' (Debian/Ubuntu), 'brew install --cask chromium'" >&2
echo "(macOS), or your system's chromium package; then run the command again." >&2
exit 1
