# Builds the SPA and the server once; two images come out of it:
#   target "app": relay-desk (also serves the SPA from STATIC_DIR)
#   target "web": nginx with nginx.conf and the built SPA
# docker compose builds both (see docker-compose.yml).

FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev pkg-config nodejs npm python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Toolchain first (cached across source changes): wasm target, trunk, wasm-bindgen, wasm-opt.
COPY Cargo.toml Cargo.lock ./
COPY scripts/lib.sh scripts/setup-frontend scripts/
COPY frontend/Trunk.toml frontend/Trunk.toml
RUN scripts/setup-frontend --no-build
COPY . .
RUN scripts/setup-frontend && cargo build --release -p relay-desk

FROM debian:bookworm-slim AS app
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /srv relay \
 && mkdir -p /data/uploads && chown relay /data/uploads
COPY --from=build /src/target/release/relay-desk /usr/local/bin/relay-desk
COPY --from=build /src/frontend/dist /srv/static
USER relay
ENV BIND=0.0.0.0:8080 STATIC_DIR=/srv/static UPLOAD_DIR=/data/uploads LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["relay-desk"]
CMD ["serve"]

FROM nginx:1.27-alpine AS web
COPY nginx.conf /etc/nginx/nginx.conf
COPY --from=build /src/frontend/dist /usr/share/nginx/html
