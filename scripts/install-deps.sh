#!/usr/bin/env bash
# Installs every build, test and demo dependency of Outpost from Debian 12
# packages. Idempotent: packages already present are left alone, and apt is
# only asked when something is missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang lld llvm libclang-rt-14-dev
  clang-format clang-tidy
  # libraries
  libboost1.81-dev libssl-dev zlib1g-dev libdeflate-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libcli11-dev prometheus-cpp-dev libyaml-cpp-dev libpq-dev libsqlite3-dev
  libmariadb-dev unixodbc-dev libgtest-dev libgmock-dev libcctz-dev
  # servers and drivers for the integration tests and the demo
  postgresql-15 postgresql-client-15 mariadb-server mariadb-client odbc-postgresql
  libsqliteodbc sqlite3
  # tools the tests and scripts use
  curl openssl procps iproute2 python3 yamllint jq
  # the web console's browser tests (scripts/check-console.sh): Debian's Chromium,
  # driven by playwright-core from npm (never a downloaded browser)
  chromium
  # the image stage (scripts/check-image.sh): build and run the real images
  # without a Docker engine, on base images made with debootstrap
  podman buildah debootstrap
)

# Node.js and npm: a machine may already carry them from another source (the
# CI image ships NodeSource's nodejs, which bundles npm and conflicts with
# Debian's npm package). Any working node and npm will do; only when absent
# are Debian's packages installed.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The Debian postgresql and mariadb packages would start system-wide servers;
# tests start their own throwaway servers, so keep the packaged ones from starting.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  remove_policy=1
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [ "${remove_policy:-0}" = 1 ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
echo "install-deps: done"
