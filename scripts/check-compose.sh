#!/usr/bin/env bash
# Validates docker/compose.yaml with Docker Compose v2 (`config -q`): a static check,
# no Docker engine needed. Installs the compose v2 plugin first if it is missing and
# we are root.
#
#   bash scripts/check-compose.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
COMPOSE_FILE=docker/compose.yaml
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins # searched by the docker CLI

die() {
  echo "check-compose: ERROR: $*" >&2
  exit 1
}

# Prints the command that runs compose v2, if there is one: the docker CLI plugin,
# or the same binary called standalone (works without the docker CLI too).
find_compose() {
  if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
    echo "docker compose"
  elif [[ -x "$PLUGIN_DIR/docker-compose" ]]; then
    echo "$PLUGIN_DIR/docker-compose"
  elif command -v docker-compose >/dev/null && docker-compose version --short 2>/dev/null | grep -q '^v\?2\.'; then
    echo "docker-compose" # Debian 13's docker-compose package is compose v2
  else
    return 1
  fi
}

install_compose() {
  [[ "$(id -u)" == 0 ]] || die "Docker Compose v2 is missing and we are not root. Install the compose plugin (Debian 13: apt-get install docker-compose)."
  echo "check-compose: installing Docker Compose v2 from Debian's packages"
  apt-get update -qq
  local candidate
  candidate="$(apt-cache policy docker-compose | awk '/Candidate:/ { print $2 }')"
  if [[ "$candidate" == 2.* ]]; then
    apt-get install -y -qq docker-compose >/dev/null
    return
  fi
  # Debian 12 (bookworm) only has compose v1 (1.29, Python) and no v2 in backports.
  # Debian 13's docker-compose (2.x) needs only libc6 >= 2.34, which Debian 12 has.
  # Fetch that one .deb with apt through a private source list (the system's apt
  # sources stay as they are) and unpack just the plugin binary.
  local mirror tmp opts codename
  codename="$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)"
  # The mirror this machine already uses for its own release ($(...) is apt's syntax).
  # shellcheck disable=SC2016
  mirror="$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' |
    awk -v s="$codename" '$2 == s { print $1; exit }')"
  [[ -n "$mirror" ]] || die "could not find the Debian mirror in the apt sources"
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
  echo "deb ${mirror%/} trixie main" >"$tmp/sources.list"
  opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
    -o "APT::Sandbox::User=root") # _apt cannot write into our 0700 temp dir
  apt-get "${opts[@]}" update -qq
  (cd "$tmp" && apt-get "${opts[@]}" download -qq docker-compose)
  dpkg-deb -x "$tmp"/docker-compose_*.deb "$tmp/root"
  install -D -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN_DIR/docker-compose"
  rm -rf "$tmp"
}

compose="$(find_compose)" || {
  install_compose
  compose="$(find_compose)" || die "Docker Compose v2 still not found after the install"
}
echo "check-compose: using $($compose version 2>&1 | head -n 1)"
$compose -f "$COMPOSE_FILE" config -q
echo "check-compose: $COMPOSE_FILE is valid"
