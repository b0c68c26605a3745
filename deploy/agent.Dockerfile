# A Tern worker image: the NativeAOT agent at /opt/tern/tern-agent and the runtime assets at /opt/tern/runtimes, on
# Debian with one runtime's interpreter where the agent runs it (/usr/bin/python3, /usr/bin/node, /usr/bin/java,
# /usr/bin/dotnet). The kubernetes driver runs kubernetes.image with {runtime} replaced. From the repository root:
#   docker build -f deploy/agent.Dockerfile --build-arg PACKAGES=python3 -t ghcr.io/tern/agent-python:latest .
#   docker build -f deploy/agent.Dockerfile --build-arg PACKAGES=nodejs -t ghcr.io/tern/agent-node:latest .
#   docker build -f deploy/agent.Dockerfile --build-arg PACKAGES=openjdk-17-jre-headless -t ghcr.io/tern/agent-java:latest .
#   docker build -f deploy/agent.Dockerfile --build-arg BASE=mcr.microsoft.com/dotnet/runtime:10.0 -t ghcr.io/tern/agent-dotnet:latest .
#   docker build -f deploy/agent.Dockerfile -t ghcr.io/tern/agent-provided:latest .   (go, rust, provided and wasm: no interpreter)
# and tag the last one for each of go, rust and wasm too (or set kubernetes.image per daemon).
ARG BASE=debian:bookworm-slim

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
RUN apt-get update -qq && apt-get install -y -qq clang zlib1g-dev >/dev/null
WORKDIR /src
COPY . .
# Building Tern.Drivers publishes the agent and the runtime bootstraps (wasm host included) into its output.
RUN dotnet build src/Tern.Drivers/Tern.Drivers.csproj -c Release -o /drivers --nologo -v q \
 && mkdir -p /opt/tern && cp /drivers/agent/tern-agent /opt/tern/tern-agent && cp -r /drivers/tern-runtimes /opt/tern/runtimes

FROM ${BASE}
ARG PACKAGES=""
RUN if [ -n "$PACKAGES" ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null \
    && rm -rf /var/lib/apt/lists/*; fi
COPY --from=build /opt/tern /opt/tern
# The pod runs as 65534 with a read-only root; /code (the function's ConfigMap) and /tmp are volumes.
USER 65534:65534
WORKDIR /code
ENTRYPOINT ["/opt/tern/tern-agent"]
