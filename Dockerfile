# syntax=docker/dockerfile:1
# agentproof in a container: the `agentproof` binary on a slim Debian, run as a non-root user.
#   docker build -t REGISTRY/agentproof:TAG .
#   docker run --rm REGISTRY/agentproof:TAG load --list
# deploy/README.md runs it as a distributed load test on Kubernetes.

# The toolchain the workspace is built with (the workspace's rust-version is the minimum).
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
# The workspace as .dockerignore leaves it (no target/, .venv/, .git or report folders).
COPY . .
# The crate registry and target/ live in BuildKit caches, so a rebuild recompiles only what
# changed; the binary is copied out of the cache within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p harness --locked \
    && install -m 0755 target/release/agentproof /usr/local/bin/agentproof

FROM debian:bookworm-slim AS runtime
# ca-certificates only: agentproof speaks TLS (rustls) to real targets and needs the roots.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 agentproof \
    && useradd --system --uid 10001 --gid agentproof --home-dir /work --shell /usr/sbin/nologin agentproof \
    && mkdir -p /work /results \
    && chown agentproof:agentproof /work /results
COPY --from=build /usr/local/bin/agentproof /usr/local/bin/agentproof
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["agentproof"]
CMD ["--help"]
