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

# System packages for the tests that use real components: Request Tracker 5
# (ticketing), nftables and iproute2 (firewall in a network namespace) and
# Chromium (the web console in a real browser). Installed with apt when root
# and missing; otherwise the tests that need them say what is missing (and
# fail under CI).
need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in request-tracker5 rt5-db-sqlite rt5-standalone iproute2 nftables chromium chromium-driver; do
	have_pkg "$p" || need="$need $p"
done
if [ -n "$need" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "install-test-deps: apt-get install$need"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq $need >/dev/null
	else
		echo "install-test-deps: missing packages:$need (run as root with apt to install them)" >&2
	fi
fi
