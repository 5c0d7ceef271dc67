# syntax=docker/dockerfile:1
#
# Outpost images.
#
#   docker build -t outpost-agent .                 the agent (default, last stage)
#   docker build -t outpost-hub --target hub .      the reference control plane
#
#   docker run --rm outpost-agent --version
#   docker run --read-only --tmpfs /tmp outpost-agent -u https://example.com/api -t TOKEN
#   docker run --read-only --tmpfs /tmp -v "$PWD/.options.cmd:/work/.options.cmd:ro" \
#     outpost-agent @.options.cmd
#
# The build stage runs scripts/build-image-steps.sh, the same script CI runs
# without a container engine (scripts/check-deploy.sh), so what CI checks is
# what the image contains. See docs/deployment.md.

ARG DEBIAN_RELEASE=12

# ---------------------------------------------------------------- build stage
FROM debian:${DEBIAN_RELEASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# Dependencies first: this layer stays cached until install-deps.sh changes.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# Installs into /out/stage/usr/local and checks deploy/docker/runtime-packages.txt
# against ldd of the binaries.
RUN OUTPOST_SKIP_DEPS=1 scripts/build-image-steps.sh --stage /out/stage --build-dir /out/build

# ------------------------------------------------------- shared runtime base
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.vendor="Outpost" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:${DEBIAN_RELEASE}-slim" \
      org.opencontainers.image.documentation="docs/deployment.md"
# Only the shared libraries the binaries need (checked in CI), plus CA roots.
COPY deploy/docker/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update -qq \
 && grep -v '^#' /tmp/runtime-packages.txt | xargs apt-get install -y -qq --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt /var/cache/debconf/*-old \
 && groupadd --system --gid 10001 outpost \
 && useradd --system --uid 10001 --gid 10001 --home-dir /work --no-create-home \
            --shell /usr/sbin/nologin outpost \
 && mkdir -p /work \
 && chown 10001:10001 /work
COPY --from=build /out/stage/usr/local/bin/outpost-healthcheck /usr/local/bin/outpost-healthcheck
# A mounted .options.cmd is found as `@.options.cmd` (relative to /work).
WORKDIR /work
# Nothing is written outside /tmp (mount a tmpfs there with --read-only).
ENV TMPDIR=/tmp
# Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001

# ---------------------------------------------------------------- hub target
FROM runtime AS hub
LABEL org.opencontainers.image.title="outpost-hub" \
      org.opencontainers.image.description="Outpost reference control plane"
COPY --from=build /out/stage/usr/local/bin/outpost-hub /usr/local/bin/outpost-hub
EXPOSE 8443
# A TCP check: the hub's endpoints need the admin token or TLS.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["outpost-healthcheck", "hub"]
ENTRYPOINT ["outpost-hub"]
CMD ["--help"]

# ------------------------------------------------ agent target (the default)
FROM runtime AS agent
LABEL org.opencontainers.image.title="outpost-agent" \
      org.opencontainers.image.description="Outpost agent: runs control-plane jobs against private databases over outbound HTTPS"
COPY --from=build /out/stage/usr/local/bin/outpost-agent /usr/local/bin/outpost-agent
# /healthz /readyz /metrics (the agent's fixed default --health-addr 0.0.0.0:8080)
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["outpost-healthcheck"]
ENTRYPOINT ["outpost-agent"]
