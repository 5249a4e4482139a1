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

chaos:
	@echo "make chaos: no chaos suite yet; the kill -9 restart test runs in make test (cmd/riposte TestDevSurvivesKillDashNine)."

clean:
	rm -rf bin
