# Builds the single fluxgate binary and ships it on a small glibc base.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY plugins ./plugins
RUN npx bun build src/main.ts --compile --bytecode --format=esm --outfile /out/fluxgate

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/fluxgate /usr/local/bin/fluxgate
ENV FLUXGATE_CONFIG=/etc/fluxgate/fluxgate.yaml
EXPOSE 9292
USER nonroot
ENTRYPOINT ["/usr/local/bin/fluxgate"]
CMD ["serve"]
