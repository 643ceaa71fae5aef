#!/usr/bin/env bash
# Build the project's Docker image on a machine that can reach Debian's and PyPI's package
# registries but not Docker Hub.
#
# It starts a Docker engine if none runs (Debian's docker.io, as root), makes a local image
# tagged python:3.11-slim from Debian bookworm packages (Python 3.11, pip, venv, the machine's
# CA certificates) so that `FROM python:3.11-slim` resolves without a pull, and then, if given
# a context directory, runs `docker build` on it.
#
#   tools/docker-base-image.sh            # engine + base image only
#   tools/docker-base-image.sh . policybot:dev   # ... then docker build -t policybot:dev .
#
# The base image is built once (about 3 minutes) and kept; delete it with
# `docker rmi python:3.11-slim` to rebuild. Nothing here is needed where Docker Hub is reachable.
set -euo pipefail
ctx="${1:-}"; tag="${2:-policybot:dev}"
export DEBIAN_FRONTEND=noninteractive
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update -qq && apt-get install -y -qq docker.io debootstrap >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  (dockerd >/tmp/dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /tmp/dockerd.log" >&2; exit 1; }
fi
if ! docker image inspect python:3.11-slim >/dev/null 2>&1; then
  root=$(mktemp -d /tmp/py311-rootfs.XXXX)
  # the Debian mirror this machine's apt already uses
  mirror=$(grep -h -m1 -oP '^URIs:\s*\K\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
  [ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  [ -n "$mirror" ] || { echo "no Debian mirror found in the apt sources" >&2; exit 1; }
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$root" "$mirror" >/tmp/debootstrap.log 2>&1 \
    || { echo "debootstrap failed; see /tmp/debootstrap.log" >&2; exit 1; }
  ln -sf python3 "$root/usr/bin/python"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"  # this machine's CAs
  tar -C "$root" -c . | docker import -c 'ENV LANG=C.UTF-8' - python:3.11-slim >/dev/null
  rm -rf "$root"
  echo "made local base image python:3.11-slim (Debian bookworm, $(docker run --rm python:3.11-slim python --version))"
fi
if [ -n "$ctx" ]; then
  docker build -t "$tag" "$ctx"
fi
