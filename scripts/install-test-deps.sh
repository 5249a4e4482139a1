#!/bin/sh
# Installs what `make test` needs and is missing. Idempotent: a second run
# does nothing. Later work adds system packages here (apt, when root).
set -eu

cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
	echo "install-test-deps: go is not on PATH; install Go $(sed -n 's/^go //p' go.mod) first" >&2
	exit 1
fi

# Modules, so that test compilation does not stall on downloads.
go mod download
