# Riposte. `make run` starts everything on an embedded Temporal server;
# `make test` installs what the tests need and runs them.

GO       ?= go
BIN      := bin/riposte
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
# Extra flags for `go test`, e.g. make test TESTFLAGS='-run TestDev -v'.
TESTFLAGS ?=

.PHONY: all build run test test-deps lint fmt bench chaos clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/riposte

run: build
	./$(BIN) dev

# test-deps installs what the tests need and is missing; it is idempotent.
test-deps:
	./scripts/install-test-deps.sh

test: test-deps
	$(GO) test -timeout 25m $(TESTFLAGS) ./...

lint:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# bench builds riposte and the harness into a temporary directory, runs
# riposte dev on a fresh SQLite file and measures it against raw Temporal
# (issue 9); it prints a RESULT line and writes bench/results/<date>.json.
# Sizes: make bench BENCHFLAGS='-n 2000 -m 10000'.
BENCHFLAGS ?=
bench:
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) build -o "$$tmp/riposte" ./cmd/riposte && \
	$(GO) build -o "$$tmp/bench" ./bench && \
	"$$tmp/bench" -riposte "$$tmp/riposte" -results bench/results $(BENCHFLAGS)

# chaos runs the full reliability suite (issue 9, cmd/riposte
# TestChaosKillStorm): 1,000 alerts over 80 incidents posted to riposte dev
# while it is killed with SIGKILL 8 times, approvals through the API, and a
# real Request Tracker behind a proxy injecting 5xx, 429 bursts and 10 s
# hangs. It prints the CHAOS line of counts it checked. make test runs the
# short form (150 alerts, 30 incidents, 2 kills). Replay a run's plan with
# RIPOSTE_CHAOS_SEED=<seed> make chaos.
# It then runs the full soak (cmd/riposte TestSoak): 5,000 open incidents
# with two regulatory clocks each in one riposte dev, list and metrics
# checks, and probe clocks firing on time across a kill -9 (about 15 min).
chaos: test-deps
	RIPOSTE_CHAOS=full $(GO) test -count=1 -timeout 20m -run '^TestChaosKillStorm$$' -v ./cmd/riposte
	RIPOSTE_SOAK=full $(GO) test -count=1 -timeout 40m -run '^TestSoak$$' -v ./cmd/riposte

clean:
	rm -rf bin
