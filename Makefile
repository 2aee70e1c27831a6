# presence: make targets for people and CI.
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 60s

.PHONY: build run test test-soak test-client generate bench bench-load bench-shared soak fuzz lint

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/presence ./cmd/presence

# Runs the demo: presence with a demo application at /demo/, on
# 127.0.0.1:8765. ARGS passes flags: make run ARGS='-addr 127.0.0.1:8766'.
run:
	@echo "make run: building presence (the first run downloads modules and compiles for a few minutes), then serving its demo at the address it prints, http://127.0.0.1:8765/demo/ unless ARGS says otherwise (make run ARGS='-addr 127.0.0.1:8766')"
	$(GO) run ./cmd/presence -demo $(ARGS)

test: lint test-client
	$(GO) test -race -count=1 -timeout 10m $$($(GO) list $(PKGS) | grep -v /internal/soak)
	$(MAKE) test-soak

# A minute of the soak (internal/soak): three nodes on a Redis that keeps
# its data on disk, scripted people, every fault once; it fails on any
# false logout, missed logout or lost end (docs/development.md, "The
# soak").
test-soak:
	$(GO) test -count=1 -timeout 10m -run TestSoak -v ./internal/soak

# The unit tests of the browser client's pure modules, with Node's own
# test runner. Without node they are skipped, unless CI=true.
test-client:
	@if command -v node >/dev/null; then node --test client/src/*.test.js; \
	elif [ "$$CI" = true ]; then echo "test-client: node is not installed, and CI must run the client's tests (apt-get install nodejs)" >&2; exit 1; \
	else echo "test-client: skipped: node is not installed"; fi

# Rebuilds the client's bundles from client/src; commit the result.
generate:
	$(GO) generate ./client/

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s ./protocol/ ./session/ ./hub/ ./backend/

# Measures a presence node under load beside a bare WebSocket server, on
# the memory store and a private redis-server: 15,000 tabs, in under 3
# minutes. docs/performance.md says what each figure means. ARGS passes
# flags: make bench-load ARGS='-store memory -scenario idle,activity'.
bench-load:
	$(GO) run ./cmd/presence-bench $(ARGS)

# What one WebSocket per browser saves (the client's shareSocket): the
# sockets and the node's memory per person with 1, 3 and 10 tabs each, a
# WebSocket per tab or one shared, on both stores; about a minute.
bench-shared:
	$(GO) run ./cmd/presence-bench -scenario shared -reference=false $(ARGS)

# Ten minutes of the soak: 2,000 people at once on three nodes sharing a
# Redis that keeps its data on disk, every fault twice; it fails on any
# false logout, missed logout or lost end. ARGS passes flags:
# make soak ARGS='-duration 30m -people 3000'.
soak:
	$(GO) run ./cmd/presence-bench soak $(ARGS)

# Every fuzz target of the module, each for FUZZTIME: a duration (60s),
# or a number of executions (10000000x) for a full campaign.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz: $$pkg $$target for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
