#!/usr/bin/env bash
# Runs Upload Portal on its embedded bucket (release build). With no configuration it uses
# generated development credentials and stores files under ./data/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec cargo leptos serve --release --precompress
