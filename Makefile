# The two commands of a fresh machine: `make run` and `make test`.
# With DATABASE_URL unset, both use the local Postgres: the one listening on
# /var/run/postgresql or 127.0.0.1:5432, else a private cluster under .data/.

GO   ?= go
SQLC := $(GO) tool -modfile=tools/go.mod sqlc
BIN  := bin/tiktokb1
HTTP_ADDR ?= 127.0.0.1:8080
# The version is stamped here because GOFLAGS may carry -buildvcs=false.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test check generate bench stop-local-db help

help:
	@echo "make run       migrate the database, then serve the sandbox (both simulators in-process) on $(HTTP_ADDR)"
	@echo "make test      run every test (needs only Go; Postgres is found or started)"
	@echo "make check     go vet, gofmt, sqlc diff, migrations up/down/up on a scratch database"
	@echo "make generate  regenerate internal/db from queries/ and migrations/ with sqlc"
	@echo "make bench     run the benchmarks"

build:
	$(GO) build -ldflags "-X github.com/tiktokb1/tiktokb1/internal/buildinfo.Version=$(VERSION)" -o $(BIN) ./cmd/tiktokb1

run: build
	./$(BIN) migrate up
	./$(BIN) serve --sandbox --http-addr $(HTTP_ADDR)

# -count=1: test results talk to a database and must never come from Go's cache.
test:
	$(GO) test -count=1 ./...

check:
	$(GO) vet ./...
	@unformatted="$$(gofmt -l $$(find . -name '*.go' -not -path './.data/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(SQLC) diff
	$(GO) test -count=1 -run 'TestUpDownUp|TestEachMigrationStepsDownAndUp' ./migrations/

generate:
	$(SQLC) generate

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Stops the private Postgres under .data/ if one was started.
stop-local-db:
	$(GO) run ./cmd/tiktokb1 local-db stop
