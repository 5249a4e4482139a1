# Riposte for `riposte serve` and `riposte worker` against a Temporal cluster.
# docker build -t riposte .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# modernc.org/sqlite is pure Go, so the binary is static.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/riposte ./cmd/riposte

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/riposte /usr/local/bin/riposte
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/riposte"]
CMD ["serve"]
