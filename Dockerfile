# The strata image: a static binary on an empty base, run as a non-root user.
#   docker build -t strata .
#   docker run -d --stop-timeout 40 -p 8420:8420 -v strata-data:/data strata
# README.md, "Run it as a service", has more.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/usr/local/bin/strata ./cmd/strata
# What the empty base lacks: CA certificates (for AWS and S3-compatible
# stores), a user to run as, and a data directory that user owns.
RUN mkdir -p /out/etc/ssl/certs /data \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && echo 'strata:x:10001:10001:strata:/data:/nonexistent' > /out/etc/passwd \
 && echo 'strata:x:10001:' > /out/etc/group

FROM scratch
COPY --from=build /out/ /
COPY --from=build --chown=10001:10001 /data /data
USER 10001:10001
ENV PATH=/usr/local/bin \
    HOME=/data \
    STRATA_DATA=/data \
    STRATA_LISTEN=0.0.0.0:8420
VOLUME /data
EXPOSE 8420
# On SIGTERM strata lets requests in flight finish for up to 30 s: give it
# that before the SIGKILL (--stop-timeout 40). Health: GET /readyz (there is
# no HEALTHCHECK: the image has no HTTP client; orchestrators probe it).
ENTRYPOINT ["strata"]
CMD ["serve"]
