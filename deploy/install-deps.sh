#!/usr/bin/env bash
# Installs every build and test dependency of cobrador from Debian 12's own packages.
# Safe to run again; used by the README's two commands and by .ci/run.
# COBRADOR_DEPS=build installs only what a Release build and its .deb need (deploy/Dockerfile):
# no test, format, sanitizer or browser packages.
set -euo pipefail

packages=(
  build-essential dpkg-dev cmake ninja-build pkg-config git
  libboost1.81-dev libboost-url1.81-dev
  libssl-dev openssl libsqlite3-dev sqlite3 libsqlitecpp-dev libpq-dev
  nlohmann-json3-dev libicu-dev libre2-dev curl ca-certificates
  libtesseract-dev libleptonica-dev tesseract-ocr-spa tesseract-ocr-eng libpoppler-cpp-dev
)
if [ "${COBRADOR_DEPS:-all}" != build ]; then
  packages+=(
    catch2 clang-format clang-tidy clang libclang-rt-14-dev python3
    postgresql-15 postgresql-client-15
    chromium chromium-driver fonts-dejavu-core imagemagick
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
