# syntax=docker/dockerfile:1
# The one image of every Go service: skaffold.yaml builds it once per
# service with the build argument SERVICE (auth, tickets, ...; the list is
# kit/services). Build context: the repository root. The stage mongobackup
# is the backup CronJobs' image (SERVICE=common/cmd/mongobackup).
# The service is built in workspace mode from go.work, exactly like
# `go build ./$SERVICE` on a developer machine, so it links the same module
# versions the tests ran against.
FROM golang:1.26.8 AS build
ARG SERVICE
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# Workspace mode needs go.work and the go.mod of every module it uses; only
# common and this service need their sources. Modules are downloaded on demand
# into the cache mount (a blanket `go mod download` would fetch every workspace
# module's dependencies, deploytest's included).
COPY go.work go.work.sum ./
COPY auth/go.mod auth/go.sum ./auth/
COPY tickets/go.mod tickets/go.sum ./tickets/
COPY orders/go.mod orders/go.sum ./orders/
COPY expiration/go.mod expiration/go.sum ./expiration/
COPY payments/go.mod payments/go.sum ./payments/
COPY common/go.mod common/go.sum ./common/
COPY kit/go.mod kit/go.sum ./kit/
COPY e2e/go.mod e2e/go.sum ./e2e/
COPY bench/go.mod bench/go.sum ./bench/
COPY deploytest/go.mod deploytest/go.sum ./deploytest/
COPY common ./common
COPY ${SERVICE} ./${SERVICE}
# Skaffold sets SKAFFOLD_GO_GCFLAGS for debugging (e.g. "all=-N -l"); empty
# otherwise. The flags are make build's (Makefile: GO_BUILD); symbol
# tables stay in when debugging, for the debugger.
ARG SKAFFOLD_GO_GCFLAGS
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    test -n "$SERVICE" || { echo "build argument SERVICE is required" >&2; exit 1; }; \
    ldflags="-s -w"; if [ -n "$SKAFFOLD_GO_GCFLAGS" ]; then ldflags=""; fi; \
    go build -tags nomsgpack -ldflags="$ldflags" -trimpath -gcflags="${SKAFFOLD_GO_GCFLAGS}" -o /out/service ./${SERVICE}

# The backup CronJobs' image (skaffold.yaml's prod profiles: ticketing/mongobackup,
# target mongobackup, SERVICE=common/cmd/mongobackup): the tool on the mongo
# image the replica sets run. Its layers are on the nodes already, its bash
# runs the CronJobs' scripts (mongo-backup.sh, mongo-restore.sh), and its
# mongorestore reads the same dumps (infra/README.md, the escape hatch).
# A stage before the last, so a build without a target is still a service.
FROM mongo:7.0.16 AS mongobackup
COPY --from=build /out/service /usr/local/bin/mongobackup
USER 999:999

# Pinned by digest (static-debian12:nonroot as of 2026-08), so a rebuild
# cannot change the runtime under us. To update: crane digest
# gcr.io/distroless/static-debian12:nonroot, and change it here.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
COPY --from=build /out/service /service
USER 65532:65532
ENV PORT=3000
EXPOSE 3000
# Delve-aware debugging in skaffold looks for GOTRACEBACK.
ENV GOTRACEBACK=single
ENTRYPOINT ["/service"]
