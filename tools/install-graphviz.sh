#!/bin/sh
# Install Graphviz's `dot` program, which rendering SVG needs.
set -e
if command -v dot >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO=none; fi
if [ "$SUDO" != none ]; then
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq graphviz >/dev/null && exit 0
  elif command -v dnf >/dev/null 2>&1; then $SUDO dnf install -y graphviz && exit 0
  elif command -v apk >/dev/null 2>&1; then $SUDO apk add graphviz && exit 0
  elif command -v brew >/dev/null 2>&1; then brew install graphviz && exit 0
  fi
fi
echo "Graphviz's 'dot' program is missing and could not be installed automatically." >&2
echo "Install it: 'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS)," >&2
echo "or see https://graphviz.org/download/ ; then run the command again." >&2
exit 1
