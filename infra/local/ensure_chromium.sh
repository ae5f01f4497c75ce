#!/bin/sh
# `make test` needs a Chromium for the browser tests (Debian's package, driven by Playwright).
# Found: nothing to do. Missing: install Debian's chromium with apt when we are root;
# otherwise stop at once with one sentence saying what to install.
set -eu
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "${CHROMIUM_PATH}" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests (apt-get, once)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium ca-certificates >/dev/null
  command -v chromium >/dev/null 2>&1 && exit 0
fi
echo "make test needs Chromium for the browser tests: install Debian's chromium package (sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium binary, then run make test again." >&2
exit 1
