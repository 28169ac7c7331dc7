# syntax=docker/dockerfile:1
# The fluxgate image: the single compiled binary (scripts/build.ts) on a small glibc base, as a non-root user,
# fit for a read-only root filesystem. Config is read from /etc/fluxgate/fluxgate.yaml.
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg FLUXGATE_BUILD_COMMIT=$(git rev-parse --short=12 HEAD) -t REGISTRY/fluxgate:0.1.0 --push .
#
# Both bases are pinned by the digest of their multi-platform index, as published in docker-library/repo-info
# (repos/node/remote/22-bookworm-slim.md: Node 22.23.2, 2026-09-19; repos/debian/remote/bookworm-slim.md:
# 2026-08-03). To update, take the new index digest from there (or `docker buildx imagetools inspect IMAGE:TAG`).

# The build runs on the builder's own platform and cross-compiles for the target: Bun's --compile --target
# needs no emulation, so an arm64 image builds as fast as an amd64 one.
FROM --platform=$BUILDPLATFORM node:22-bookworm-slim@sha256:48e4b67d85f87bd551df43704e24d252f56cc5f8e9718841aace50f19948f0f9 AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY plugins ./plugins
ARG TARGETARCH
# The commit to stamp into `fluxgate version` and fluxgate_build_info (.git is not in the build context).
ARG FLUXGATE_BUILD_COMMIT=""
RUN case "$TARGETARCH" in \
      amd64) target=linux-x64 ;; \
      arm64) target=linux-arm64 ;; \
      *) echo "unsupported TARGETARCH: $TARGETARCH" >&2; exit 1 ;; \
    esac \
 && FLUXGATE_BUILD_COMMIT="$FLUXGATE_BUILD_COMMIT" node_modules/.bin/bun scripts/build.ts --target "$target" --outdir /out \
 && mv "/out/fluxgate-$target" /out/fluxgate

FROM debian:bookworm-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241
ARG FLUXGATE_BUILD_COMMIT=""
LABEL org.opencontainers.image.title="fluxgate" \
      org.opencontainers.image.description="Webhook gateway for GitOps: verified webhooks become Flux reconcile requests" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="$FLUXGATE_BUILD_COMMIT"
COPY --from=build --chmod=0555 /out/fluxgate /usr/local/bin/fluxgate
# 65532 is the conventional "nonroot" uid/gid; numeric so Kubernetes can check runAsNonRoot.
USER 65532:65532
ENV FLUXGATE_CONFIG=/etc/fluxgate/fluxgate.yaml
# 9292: webhooks (/hook/*); 9293: the admin address (status page, /metrics, probes).
EXPOSE 9292 9293
ENTRYPOINT ["/usr/local/bin/fluxgate"]
CMD ["serve"]
