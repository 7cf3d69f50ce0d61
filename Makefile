# The two commands: `make run` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The Go services (SERVICES), rendered from kit/services by `make generate`.
include kit/services/services.mk
# Every module of the workspace (go test ./... at the root does not work).
MODULES      = $(shell go list -m -f '{{.Dir}}')
FUZZTIME    ?= 5s

.PHONY: help generate run run-manifests test-manifests test build lint cross test-go fuzz devstack bench e2e client test-browser

help:
	@echo "make run   - build and start the whole platform locally (gateway on http://localhost:8080)"
	@echo "make run-manifests - the dev overlay (OVERLAY=...) run as its manifests say, ingress on https://127.0.0.1:8443"
	@echo "make test  - every test: lint, Go unit/integration/fuzz, manifests, client build and browser tests"

# How every service binary is built, here and by the e2e tests, the browser
# tests and the bench (they call `make build devstack BIN=...`): static, no
# gin msgpack codec (nothing speaks it), no symbol tables. Together they cut
# ~4 MB of idle RSS per service (bench/results).
# (CGO off only here: the tests' -race needs cgo.)
BIN            ?= bin
GO_BUILD        = CGO_ENABLED=0 go build -trimpath -tags nomsgpack -ldflags='-s -w'

build:
	@mkdir -p $(BIN)
	$(GO_BUILD) -o $(abspath $(BIN))/ $(addprefix ./,$(SERVICES))

devstack:
	@mkdir -p $(BIN)
	cd kit && $(GO_BUILD) -o $(abspath $(BIN))/devstack ./cmd/devstack

# The web client, built once its sources change (npm ci needs only npm).
client/.next/standalone/server.js: client/package-lock.json $(shell find client/app client/components client/lib -type f 2>/dev/null) client/next.config.mjs client/proxy.ts client/security-headers.mjs
	cd client && npm ci --no-audit --no-fund --loglevel=error && npm run build

client: client/.next/standalone/server.js

# devstack's environment passes through to the services: every variable it
# does not set itself (README: Configuration).
run: build devstack client
	bin/devstack

# An overlay run as its manifests say (deploytest/manifestrun): every Deployment
# and StatefulSet pod with the manifest's command, env, replicas (at least
# two of each autoscaled one) and probes; the Ingress in ingress-nginx mode
# on https://127.0.0.1:8443 and http://127.0.0.1:8081. OVERLAY=dev-jetstream
# for the other bus. MongoDB is the one substitution (FerretDB).
OVERLAY ?= dev

run-manifests: build client
	cd deploytest/manifestrun && $(GO_BUILD) -o $(abspath $(BIN))/runmanifests ./cmd/runmanifests
	$(BIN)/runmanifests -overlay $(OVERLAY) -bin $(BIN)

# The manifest-driven checks (deploytest/manifestrun): the dev and dev-jetstream
# overlays as their manifests say, the purchase through https://ticketing.dev
# (server-rendered pages included), the prod NATS Streaming cluster, and the
# planted mistakes each caught. They need the binaries and the client built.
test-manifests: client
	@mkdir -p $(BIN)
	$(GO_BUILD) -o $(abspath $(BIN))/ $(addprefix ./,$(SERVICES))
	cd deploytest/manifestrun && MANIFEST_TESTS=1 MANIFEST_BIN=$(abspath $(BIN)) go test -count=1 -timeout 15m ./...

# A platform that is already running (a cluster), and the certificate to
# trust for it: make e2e URL=https://ticketing.dev CA=infra/certs/ticketing.dev.crt
URL ?=
CA  ?=
ca   = $(if $(CA),$(abspath $(CA)))

# The load tool: starts its own stack (ports +2000) and writes
# bench/results/<date>.md; with URL (and CA), benches that platform instead.
bench:
	go run ./bench $(if $(URL),-url=$(URL)) $(if $(CA),-ca=$(ca)) $(BENCH_FLAGS)

# The e2e suite: on its own local stack (ports +1000), or with URL (and CA)
# against that platform; tests that need the local stack are skipped then.
e2e:
	cd e2e && E2E_URL='$(URL)' E2E_CA='$(ca)' go test -count=1 -timeout 15m ./...

# Every file that lists the services is rendered from its *.tmpl beside it
# and the table in kit/services (kit/gen); deploytest fails when one is stale.
generate:
	cd kit && go run ./cmd/gen -root ..

lint:
	@echo "== gofmt"; out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "$$out"; exit 1; fi
	@for m in $(MODULES); do echo "== vet + staticcheck $$m"; (cd $$m && go vet ./... && go run $(STATICCHECK) ./...); done

# make run and the Go tests must build on macOS and Windows as well as Linux
# (most newcomers have a Mac): go vet compiles every package and test of every
# module for each of these.
CROSS := darwin/arm64 darwin/amd64 windows/amd64

cross:
	@for p in $(CROSS); do for m in $(MODULES); do echo "== vet GOOS/GOARCH=$$p $$m"; \
	  (cd $$m && GOOS=$${p%/*} GOARCH=$${p#*/} go vet ./...); done; done

test-go:
	@for m in $(MODULES); do echo "== go test $$m"; (cd $$m && go test -race -count=1 -timeout 15m ./...); done
	@echo "== go test e2e on JetStream"; cd e2e && EVENT_BUS=jetstream go test -count=1 -timeout 15m ./...

fuzz:
	cd common && go test -run '^$$' -fuzz '^FuzzCookieToUser$$' -fuzztime $(FUZZTIME) ./session
	cd common && go test -run '^$$' -fuzz '^FuzzBindJSON$$' -fuzztime $(FUZZTIME) ./httpx
	cd kit && go test -run '^$$' -fuzz '^FuzzGatewayRequest$$' -fuzztime $(FUZZTIME) ./gateway

# With URL (and CA): the browser tests against that platform.
test-browser:
	URL='$(URL)' CA='$(ca)' scripts/browser-test.sh

test: lint cross test-go fuzz test-browser test-manifests
