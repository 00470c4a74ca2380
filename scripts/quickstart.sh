#!/bin/sh
# The README's quick start: Node.js 24, the dependencies, the build, then `demo` on the embedded defaults (PGlite and
# the KTRDR simulator, no settings). Each step is skipped when it is already done, so running it again is cheap.
set -eu
here=$(pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  if [ -f ../shared/setup/ensure-node.sh ]; then
    bash ../shared/setup/ensure-node.sh 24
    hash -r
  else
    echo "ktrdr-agent needs Node.js 24 (this is $(node --version 2>/dev/null || echo 'no node')): install it from https://nodejs.org or with \`nvm install 24\`, then run this again." >&2
    exit 1
  fi
fi

# npm writes node_modules/.package-lock.json on every install: older than package-lock.json means out of date.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# Rebuild only when a source is newer than the bundle (a rebuild under running tests would swap files under them).
if [ ! -f dist/tick-main.js ] || [ -n "$(find src migrations prompts scripts bin package.json package-lock.json -newer dist/tick-main.js -print 2>/dev/null | head -n 1)" ]; then
  npm run build
fi

# From the directory it was started in, so the commands the demo prints work there as printed.
cd "$here"
exec "$root/bin/run.js" demo "$@"
