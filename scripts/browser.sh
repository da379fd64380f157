#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright (no browser download: `playwright install`
# is never run). Install Debian's chromium, chromium-driver and a CJK font (without one the portal's
# Chinese renders as boxes in the screenshots) when they are missing. Safe to run again.
set -u
PACKAGES="chromium chromium-driver fonts-wqy-microhei"
missing=""
for p in $PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ] && command -v apt-get >/dev/null 2>&1; then
  echo "browser: installing Debian packages:$missing"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q $missing >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null 2>&1
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q $missing >/dev/null
  }
fi
if [ -x /usr/bin/chromium ]; then
  echo "browser: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
else
  echo "browser: /usr/bin/chromium is NOT installed (the browser tests fail in CI without it)"
fi
exit 0
