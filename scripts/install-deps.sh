#!/usr/bin/env bash
# Installs the system packages Tern needs, only those missing. Runs as root (apt-get), as these machines do.
#   scripts/install-deps.sh          what the daemon needs (bubblewrap; pasta and nftables for functions with network egress;
#                                    runsc for isolation: gvisor)
#   scripts/install-deps.sh --test   plus what the tests need: Go and wabt to build the examples, promtool to check /metrics,
#                                    the AWS CLI and boto3 to drive the Lambda API, postgresql for the store tests
set -euo pipefail
need=()
lean=() # installed without their recommended packages
command -v bwrap >/dev/null || need+=(bubblewrap)
[[ -x /usr/bin/runsc ]] || need+=(runsc)   # gVisor, for functions with isolation: gvisor (and its tests)
# scripts/install-runsc.sh verifies and unpacks a newer runsc (systrap platform) with these
command -v gpgv >/dev/null || need+=(gpgv)
command -v xz >/dev/null || need+=(xz-utils)
[[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || need+=(debian-archive-keyring)
[[ -x /usr/bin/python3 ]] || need+=(python3)
# isolation: microvm (docs/microvm.md): QEMU runs the VMs; `tern images build` needs a static busybox and mkfs.ext4
[[ -x /usr/bin/qemu-system-x86_64 ]] || need+=(qemu-system-x86)
[[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1 || need+=(busybox-static)
[[ -x /usr/sbin/mkfs.ext4 ]] || need+=(e2fsprogs)
command -v node >/dev/null || need+=(nodejs)
command -v curl >/dev/null || need+=(curl)
# network: egress (docs/sandbox-layers.md): pasta is the user-mode network stack, nft loads each worker's filter
[[ -x /usr/bin/pasta ]] || need+=(passt)
[[ -x /usr/sbin/nft ]] || need+=(nftables)
[[ -x /usr/sbin/ip ]] || need+=(iproute2)
if [[ "${1:-}" == "--test" ]]; then
  command -v go >/dev/null || need+=(golang-go)
  command -v wat2wasm >/dev/null || need+=(wabt)
  command -v zip >/dev/null || need+=(zip)
  command -v gpg >/dev/null || need+=(gpg) # signs the local test mirror of scripts/install-runsc.sh's tests
  # The store contract suite and the daemon tests on Postgres start a throwaway cluster (scripts/postgres-test-cluster.sh)
  command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
  # kubectl renders deploy/kubernetes (kustomize, offline) in the manifest tests
  command -v kubectl >/dev/null || need+=(kubernetes-client)
  # promtool (Debian ships it in the prometheus package) checks the daemon's /metrics output in the API tests; the
  # package's recommended node exporter is not wanted.
  command -v promtool >/dev/null || lean+=(prometheus)
  # The Lambda API tests run the real AWS CLI and boto3 against the daemon; any python3 that imports boto3 will do.
  command -v aws >/dev/null || need+=(awscli)
  python3 -c 'import boto3' 2>/dev/null || /usr/bin/python3 -c 'import boto3' 2>/dev/null || need+=(python3-boto3)
fi
if (( ${#need[@]} + ${#lean[@]} )); then
  all=("${need[@]}" "${lean[@]}")
  echo "install-deps: installing ${all[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if (( ${#need[@]} )); then apt-get install -y -qq "${need[@]}" >/dev/null; fi
  if (( ${#lean[@]} )); then apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null; fi
fi
# gVisor's systrap platform needs a newer runsc than bookworm's (docs/gvisor.md); without it gVisor runs on ptrace,
# which the tests do not accept
"$(dirname "${BASH_SOURCE[0]}")/install-runsc.sh" || [[ "${1:-}" != "--test" ]] || exit 1
command -v dotnet >/dev/null || { echo "install-deps: the .NET SDK (dotnet) is required" >&2; exit 1; }
