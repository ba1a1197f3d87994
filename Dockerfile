# syntax=docker/dockerfile:1
# Multi-stage build of the `presta` binary.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p server \
    && cp target/release/presta /usr/local/bin/presta

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data --create-home presta
COPY --from=build /usr/local/bin/presta /usr/local/bin/presta
USER presta
WORKDIR /data
ENV HOST=0.0.0.0 PORT=8080 DATA_DIR=/data LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["presta"]
CMD ["serve"]
