# syntax=docker/dockerfile:1
#
# Outpost images (see docs/deployment.md).
#
#   docker build -t outpost-agent .                 the agent (default, last stage)
#   docker build -t outpost-hub --target hub .      the reference control plane
#
#   docker run --rm outpost-agent --version
#   docker run --read-only --tmpfs /tmp outpost-agent -u https://example.com/api -t TOKEN
#   docker run --read-only --tmpfs /tmp -v "$PWD/.options.cmd:/work/.options.cmd:ro" \
#     outpost-agent @.options.cmd
#
# Where the binaries come from (build argument BINARIES):
#   source    (default) compile them in the build stage with
#             scripts/build-image-steps.sh, the script CI also runs natively;
#   prebuilt  take the staged tree build/image-stage that
#             scripts/build-image-steps.sh already made on the host (a Debian
#             12 machine), so an image build costs no compile:
#               scripts/build-image-steps.sh
#               podman build --build-arg BINARIES=prebuilt -t outpost-agent .
#
# The agent image is FROM scratch: the binary, exactly the shared objects
# `ldd` lists (from the Debian 12 packages of deploy/docker/runtime-packages.txt),
# the CA bundle and passwd/group entries; no shell, no package manager. Its
# HEALTHCHECK is `outpost-agent healthcheck`. The hub image is made the same
# way (plus libpq's dependencies and /usr/share/zoneinfo for cron time zones);
# HEALTHCHECK `outpost-hub healthcheck`. Build with `--format docker` under
# podman/buildah to keep HEALTHCHECK (the OCI format has no such field).

ARG DEBIAN_RELEASE=12

# ---------------------------------------------------------------- build stage
FROM debian:${DEBIAN_RELEASE} AS build
ARG BINARIES=source
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# Dependencies first: this layer stays cached until install-deps.sh changes.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN if [ "$BINARIES" = source ]; then scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*; fi
COPY . .
# Installs into /out/stage/usr/local and checks deploy/docker/runtime-packages.txt
# against ldd of the binaries.
RUN case "$BINARIES" in \
      source) OUTPOST_SKIP_DEPS=1 scripts/build-image-steps.sh --stage /out/stage --build-dir /out/build ;; \
      prebuilt) test -x build/image-stage/usr/local/bin/outpost-agent \
                  || { echo "BINARIES=prebuilt: run scripts/build-image-steps.sh first (no build/image-stage)" >&2; exit 1; } \
                && mkdir -p /out && cp -a build/image-stage /out/stage ;; \
      *) echo "BINARIES must be 'source' or 'prebuilt', not '$BINARIES'" >&2; exit 1 ;; \
    esac

# ------------------------- shared runtime base (where the rootfs are gathered)
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# Only the shared libraries the binaries need (checked in CI), plus CA roots
# and the tz database; collect-rootfs.sh copies what each binary uses.
COPY deploy/docker/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update -qq \
 && grep -v '^#' /tmp/runtime-packages.txt | xargs apt-get install -y -qq --no-install-recommends \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt /var/cache/debconf/*-old \
 && groupadd --system --gid 10001 outpost \
 && useradd --system --uid 10001 --gid 10001 --home-dir /work --no-create-home \
            --shell /usr/sbin/nologin outpost \
 && mkdir -p /work \
 && chown 10001:10001 /work
# `--target runtime` is also the base for an agent with ODBC drivers
# (docs/deployment.md): Debian 12 slim, apt, the runtime packages, user 10001.
WORKDIR /work
ENV TMPDIR=/tmp
USER 10001:10001

# ------------------------------- the hub's root file system, gathered by ldd
FROM runtime AS hub-rootfs
USER root
COPY --from=build /out/stage/usr/local/bin/outpost-hub /usr/local/bin/outpost-hub
COPY deploy/docker/collect-rootfs.sh /usr/local/sbin/collect-rootfs.sh
# /rootfs: the hub, the libraries ldd resolves (libpq for the PostgreSQL
# store among them), the tz database its cron schedules read, CA bundle,
# passwd/group; file list with packages in /rootfs/usr/share/outpost/image-files.tsv.
RUN /usr/local/sbin/collect-rootfs.sh /rootfs --tree /usr/share/zoneinfo /usr/local/bin/outpost-hub

# ---------------------------------------------------------------- hub target
FROM scratch AS hub
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=NOASSERTION
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="outpost-hub" \
      org.opencontainers.image.description="Outpost reference control plane" \
      org.opencontainers.image.vendor="Outpost" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.documentation="docs/deployment.md"
COPY --from=hub-rootfs /rootfs/ /
ENV PATH=/usr/local/bin \
    TMPDIR=/tmp
WORKDIR /work
USER 10001:10001
EXPOSE 8443
# GET /healthz on --listen of PID 1 (a TCP connect when it serves TLS).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["outpost-hub", "healthcheck"]
ENTRYPOINT ["outpost-hub"]
CMD ["--help"]

# ------------------------------- the agent's root file system, gathered by ldd
FROM runtime AS agent-rootfs
USER root
COPY --from=build /out/stage/usr/local/bin/outpost-agent /usr/local/bin/outpost-agent
COPY deploy/docker/collect-rootfs.sh /usr/local/sbin/collect-rootfs.sh
COPY deploy/docker/client-libraries.txt /tmp/client-libraries.txt
# /rootfs: the agent, the libraries ldd resolves, the database client
# libraries it opens with dlopen on first use (client-libraries.txt) with
# theirs (and libmariadb's auth plugins, loaded at run time), CA bundle,
# passwd/group; the file list with each file's Debian package and version goes
# to /rootfs/usr/share/outpost/image-files.tsv (the SBOM is made from it).
RUN /usr/local/sbin/collect-rootfs.sh /rootfs \
      $(grep -v -e '^#' -e '^$' /tmp/client-libraries.txt | sed 's/^/--dlopen /') \
      /usr/local/bin/outpost-agent

# ------------------------------------------------ agent target (the default)
FROM scratch AS agent
ARG DEBIAN_RELEASE=12
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=NOASSERTION
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="outpost-agent" \
      org.opencontainers.image.description="Outpost agent: runs control-plane jobs against private databases over outbound HTTPS" \
      org.opencontainers.image.vendor="Outpost" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.documentation="docs/deployment.md"
COPY --from=agent-rootfs /rootfs/ /
ENV PATH=/usr/local/bin \
    TMPDIR=/tmp
WORKDIR /work
USER 10001:10001
# /healthz /readyz /metrics (the agent's fixed default --health-addr 0.0.0.0:8080)
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["outpost-agent", "healthcheck"]
ENTRYPOINT ["outpost-agent"]
