# The Tern control plane (the daemon and the tern CLI), for deploy/kubernetes. Build from the repository root:
#   docker build -f deploy/control-plane.Dockerfile -t ghcr.io/tern/control-plane:latest .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# clang and zlib: the Tern.Drivers build publishes the NativeAOT agent it ships beside the daemon.
RUN apt-get update -qq && apt-get install -y -qq clang zlib1g-dev >/dev/null
WORKDIR /src
COPY . .
RUN dotnet publish src/Tern.Cli/Tern.Cli.csproj -c Release -o /out --nologo -v q

FROM mcr.microsoft.com/dotnet/aspnet:10.0
COPY --from=build /out /opt/tern
# Runs as an unprivileged user; its data directory is the volume the Deployment mounts at /var/lib/tern.
RUN useradd --system --uid 10001 --home-dir /var/lib/tern tern && mkdir -p /var/lib/tern && chown tern /var/lib/tern
USER 10001
ENV TERN_LISTEN=0.0.0.0:8080 TERN_DATA_DIR=/var/lib/tern TERN_DRIVERS_DEFAULT_ISOLATION=kubernetes
EXPOSE 8080
ENTRYPOINT ["dotnet", "/opt/tern/tern.dll", "daemon"]
