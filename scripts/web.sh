#!/usr/bin/env bash
# Builds the web page (web/, TypeScript + Vite) into services/progress-gateway/wwwroot, where the gateway serves it.
#
#   scripts/web.sh          npm install when package-lock.json changed since the last install, then build when a source
#                           is newer than the last build (FORCE=1 builds anyway)
#   scripts/web.sh test     npm install when needed, the page's unit tests (vitest), then the build as above
#   scripts/web.sh install  only the npm install part (the browser tests also need web/node_modules: axe-core)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WEB="$REPO_ROOT/web"

install() {
    command -v npm >/dev/null || die "npm is not installed (Debian: apt-get install -y nodejs npm)"
    # Vite 7 needs Node.js 20.19 or later: say so plainly rather than fail deep inside the build.
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
        die "Node.js $(node --version) is too old for the web page's build: it needs 20.19 or later"
    # Only when the lock file is newer than the last install. `npm install --no-save` installs the locked versions
    # and leaves the lock alone; `npm ci` would refuse this lock, which cannot list the other platforms' rollup
    # binaries because the registry reached here does not serve them.
    if [[ ! -f $WEB/node_modules/.package-lock.json || $WEB/package-lock.json -nt $WEB/node_modules/.package-lock.json ]]; then
        log "npm install (web/, locked versions)"
        (cd "$WEB" && npm install --no-save --no-audit --no-fund --loglevel=error)
    fi
}

OUT="$REPO_ROOT/services/progress-gateway/wwwroot/index.html"

build() {
    if [[ ${FORCE:-0} != 1 && -f $OUT ]] &&
        [[ -z $(find "$WEB/src" "$WEB/public" "$WEB/index.html" "$WEB"/*.json "$WEB"/*.ts -newer "$OUT" -print -quit) ]]; then
        log "web page is up to date (services/progress-gateway/wwwroot)"
        return 0
    fi
    log "building the web page into services/progress-gateway/wwwroot"
    (cd "$WEB" && npm run --silent build -- --logLevel warn)
}

unit_tests() {
    log "web unit tests (vitest)"
    (cd "$WEB" && npx --no-install vitest run)
}

case "${1:-all}" in
    install) install ;;
    test) install; unit_tests; build ;;
    all) install; build ;;
    *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
