# presence: make targets for people and CI.
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 30s

.PHONY: build run test bench fuzz lint

build:
	$(GO) build -o bin/presence ./cmd/presence

# Runs the demo on :8765: presence with a demo application at /demo/.
run:
	$(GO) run ./cmd/presence -demo $(ARGS)

test: lint
	$(GO) test -race -count=1 -timeout 10m $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s ./protocol/ ./session/ ./hub/

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeClient$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./session/

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
