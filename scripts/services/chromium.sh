#!/usr/bin/env bash
# Makes sure Debian's Chromium is on this machine (for the simulation report's browser test and screenshot,
# test/sim/report-browser.test.ts and `npm run sim:screenshot`), installing it from the system packages when it is
# missing; prints the binary's path on its last line. Idempotent: a machine that has it is left as it is.
#
# Only the system package: a test tool's own browser download (`npx playwright install`, puppeteer's postinstall)
# cannot work on a machine whose network reaches only the package registries. AITBC_CHROMIUM names another binary.
set -euo pipefail

if [[ -n "${AITBC_CHROMIUM:-}" ]]; then
  [[ -x "$AITBC_CHROMIUM" ]] || { echo "chromium.sh: AITBC_CHROMIUM=$AITBC_CHROMIUM is not an executable" >&2; exit 1; }
  echo "$AITBC_CHROMIUM"
  exit 0
fi
for candidate in chromium chromium-browser; do
  if found=$(command -v "$candidate"); then
    echo "$found"
    exit 0
  fi
done

# Not installed: apt-get as root, or through sudo when this user is not root and sudo is there without a password.
if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "chromium.sh: chromium is not installed, and installing it needs root (or sudo without a password):" >&2
  echo "  apt-get install -y chromium" >&2
  exit 1
fi
started=$SECONDS
echo "chromium.sh: installing Debian's chromium (apt-get update && apt-get install -y chromium)" >&2
# Another apt-get on the machine holds dpkg's lock for a while: wait for it rather than fail.
apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
"${as_root[@]}" "${apt[@]}" update -qq >&2
"${as_root[@]}" "${apt[@]}" install -y -qq --no-install-recommends chromium >&2
echo "chromium.sh: installed in $((SECONDS - started)) s" >&2
command -v chromium
