#!/usr/bin/env bash
# Install Debian's chromium for the browser tests of the annotation UI (Playwright drives it; it
# cannot download a browser of its own here); idempotent.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update >&2
apt-get install -y --no-install-recommends chromium >&2
command -v chromium >/dev/null
