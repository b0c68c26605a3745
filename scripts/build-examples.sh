#!/usr/bin/env bash
# Builds every example under examples/ into a deployable artifact:
#   scripts/build-examples.sh OUTDIR
# Artifacts already newer than their sources (and this script) are skipped, so a no-op run is fast.
set -Eeuo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$ROOT/scripts/build-examples.sh"
EX="$ROOT/examples"
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
current="setup"
trap 'rc=$?; (( BASH_SUBSHELL )) || echo "build-examples: FAILED while building $current (exit $rc)" >&2' ERR

# Serialise concurrent invocations (tests may call this in parallel) on the same OUTDIR.
if command -v flock >/dev/null; then
    exec 9>"$OUT/.lock"
    flock 9
fi

die() { echo "build-examples: $*" >&2; exit 1; }

# stale ARTIFACT SOURCE...: true if ARTIFACT is missing or older than any source file.
stale() {
    local artifact=$1
    shift
    [[ -e $artifact ]] || return 0
    [[ -n $(find "$@" "$SELF" \( -name bin -o -name obj -o -name target \) -prune \
        -o -newer "$artifact" -print -quit) ]]
}

built() {
    touch "$1"
    echo "built $current -> $1"
}

# copy SRC DEST MODE: atomic copy.
copy() {
    mkdir -p "$(dirname "$2")"
    install -m "$3" "$1" "$2.tmp"
    mv -f "$2.tmp" "$2"
}

apt_tools() {
    [[ $(id -u) -eq 0 ]] || die "$1 is missing; install it with: apt-get install -y golang-go wabt"
    echo "build-examples: installing golang-go wabt via apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go wabt >&2
    command -v "$1" >/dev/null || die "$1 still missing after apt-get install"
}

current=python
if stale "$OUT/python/main.py" "$EX/python/main.py"; then
    copy "$EX/python/main.py" "$OUT/python/main.py" 644
    built "$OUT/python/main.py"
fi

current=node
if stale "$OUT/node/index.js" "$EX/node/index.js"; then
    copy "$EX/node/index.js" "$OUT/node/index.js" 644
    built "$OUT/node/index.js"
fi

current=binary
if stale "$OUT/binary/bootstrap" "$EX/binary/bootstrap"; then
    copy "$EX/binary/bootstrap" "$OUT/binary/bootstrap" 755
    built "$OUT/binary/bootstrap"
fi

current=dotnet
if stale "$OUT/dotnet/Hello.dll" "$EX/dotnet"; then
    command -v dotnet >/dev/null || die "dotnet SDK not found on PATH"
    export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
    # bin/obj go under OUTDIR so the source tree stays clean; publish into a temp dir, then swap.
    rm -rf "$OUT/.dotnet-tmp"
    dotnet publish "$EX/dotnet" -c Release -o "$OUT/.dotnet-tmp" --nologo -v quiet \
        --artifacts-path "$OUT/.dotnet-artifacts"
    rm -rf "$OUT/dotnet"
    mv "$OUT/.dotnet-tmp" "$OUT/dotnet"
    built "$OUT/dotnet/Hello.dll"
fi

current=java
if stale "$OUT/java/app.jar" "$EX/java/Hello.java"; then
    command -v javac >/dev/null && command -v jar >/dev/null || die "javac/jar (a JDK) not found on PATH"
    rm -rf "$OUT/.java-classes"
    mkdir -p "$OUT/.java-classes" "$OUT/java"
    javac --release 17 -d "$OUT/.java-classes" "$EX/java/Hello.java"
    jar --create --file "$OUT/java/app.jar.tmp" --main-class Hello -C "$OUT/.java-classes" .
    mv -f "$OUT/java/app.jar.tmp" "$OUT/java/app.jar"
    copy "$EX/java/Hello.java" "$OUT/java/Hello.java" 644
    built "$OUT/java/app.jar"
fi

current=go
if stale "$OUT/go/bootstrap" "$EX/go"; then
    command -v go >/dev/null || apt_tools go
    if [[ -z ${HOME:-} || ! -d $HOME || ! -w $HOME ]]; then
        export GOCACHE="$OUT/.gocache/build" GOPATH="$OUT/.gocache/path"
    fi
    mkdir -p "$OUT/go"
    (cd "$EX/go" && CGO_ENABLED=0 GOPROXY=off GOFLAGS=-buildvcs=false \
        go build -trimpath -ldflags='-s -w' -o "$OUT/go/bootstrap.tmp" .)
    mv -f "$OUT/go/bootstrap.tmp" "$OUT/go/bootstrap"
    built "$OUT/go/bootstrap"
fi

current=rust
if stale "$OUT/rust/bootstrap" "$EX/rust/Cargo.toml" "$EX/rust/src"; then
    command -v cargo >/dev/null || PATH="${HOME:-/root}/.cargo/bin:$PATH"
    command -v cargo >/dev/null || die "cargo not found (looked on PATH and in \$HOME/.cargo/bin)"
    # crt-static: a self-contained binary that doesn't need /lib64/ld-linux in the sandbox.
    CARGO_TARGET_DIR="$OUT/.cargo-target" RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --offline --quiet \
        --manifest-path "$EX/rust/Cargo.toml"
    copy "$OUT/.cargo-target/release/hello" "$OUT/rust/bootstrap" 755
    built "$OUT/rust/bootstrap"
fi

current=wasm
if stale "$OUT/wasm/hello.wasm" "$EX/wasm/hello.wat"; then
    command -v wat2wasm >/dev/null || apt_tools wat2wasm
    mkdir -p "$OUT/wasm"
    wat2wasm "$EX/wasm/hello.wat" -o "$OUT/wasm/hello.wasm.tmp"
    mv -f "$OUT/wasm/hello.wasm.tmp" "$OUT/wasm/hello.wasm"
    built "$OUT/wasm/hello.wasm"
fi

# Persistent mode (docs/persistent-mode.md): Lambda-style handlers loaded once per worker by Tern's bootstraps,
# and executables that speak the line protocol themselves.
current=persistent-python
if stale "$OUT/persistent-python/lambda_function.py" "$EX/persistent-python/lambda_function.py"; then
    copy "$EX/persistent-python/lambda_function.py" "$OUT/persistent-python/lambda_function.py" 644
    built "$OUT/persistent-python/lambda_function.py"
fi

current=persistent-node
if stale "$OUT/persistent-node/index.js" "$EX/persistent-node/index.js"; then
    copy "$EX/persistent-node/index.js" "$OUT/persistent-node/index.js" 644
    built "$OUT/persistent-node/index.js"
fi

current=persistent-binary
if stale "$OUT/persistent-binary/bootstrap" "$EX/persistent-binary/bootstrap"; then
    copy "$EX/persistent-binary/bootstrap" "$OUT/persistent-binary/bootstrap" 755
    built "$OUT/persistent-binary/bootstrap"
fi

current=persistent-wasm
if stale "$OUT/persistent-wasm/echo.wasm" "$EX/persistent-wasm/echo.wat"; then
    command -v wat2wasm >/dev/null || apt_tools wat2wasm
    mkdir -p "$OUT/persistent-wasm"
    wat2wasm "$EX/persistent-wasm/echo.wat" -o "$OUT/persistent-wasm/echo.wasm.tmp"
    mv -f "$OUT/persistent-wasm/echo.wasm.tmp" "$OUT/persistent-wasm/echo.wasm"
    built "$OUT/persistent-wasm/echo.wasm"
fi

current=persistent-go
if stale "$OUT/persistent-go/bootstrap" "$EX/persistent-go"; then
    command -v go >/dev/null || apt_tools go
    if [[ -z ${HOME:-} || ! -d $HOME || ! -w $HOME ]]; then
        export GOCACHE="$OUT/.gocache/build" GOPATH="$OUT/.gocache/path"
    fi
    mkdir -p "$OUT/persistent-go"
    (cd "$EX/persistent-go" && CGO_ENABLED=0 GOPROXY=off GOFLAGS=-buildvcs=false \
        go build -trimpath -ldflags='-s -w' -o "$OUT/persistent-go/bootstrap.tmp" .)
    mv -f "$OUT/persistent-go/bootstrap.tmp" "$OUT/persistent-go/bootstrap"
    built "$OUT/persistent-go/bootstrap"
fi

current=persistent-dotnet
if stale "$OUT/persistent-dotnet/Greeter.dll" "$EX/persistent-dotnet"; then
    command -v dotnet >/dev/null || die "dotnet SDK not found on PATH"
    export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
    rm -rf "$OUT/.persistent-dotnet-tmp"
    dotnet publish "$EX/persistent-dotnet" -c Release -o "$OUT/.persistent-dotnet-tmp" --nologo -v quiet \
        --artifacts-path "$OUT/.persistent-dotnet-artifacts"
    rm -rf "$OUT/persistent-dotnet"
    mv "$OUT/.persistent-dotnet-tmp" "$OUT/persistent-dotnet"
    built "$OUT/persistent-dotnet/Greeter.dll"
fi

current=persistent-java
if stale "$OUT/persistent-java/handler.jar" "$EX/persistent-java"; then
    command -v javac >/dev/null && command -v jar >/dev/null || die "javac/jar (a JDK) not found on PATH"
    rm -rf "$OUT/.persistent-java-classes"
    mkdir -p "$OUT/.persistent-java-classes" "$OUT/persistent-java"
    javac --release 17 -d "$OUT/.persistent-java-classes" $(find "$EX/persistent-java" -name '*.java')
    jar --create --file "$OUT/persistent-java/handler.jar.tmp" -C "$OUT/.persistent-java-classes" .
    mv -f "$OUT/persistent-java/handler.jar.tmp" "$OUT/persistent-java/handler.jar"
    built "$OUT/persistent-java/handler.jar"
fi
