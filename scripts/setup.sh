#!/usr/bin/env bash
# Installs what cidrpool and its tests need on a fresh Debian machine, then builds.
# Debian packages: etcd (server and etcdctl) for the etcd datastore and its tests, the CNI
# reference plugins (bridge, host-local) for the CNI end-to-end test and benchmarks, openssl for
# the TLS test, iproute2/ping for network namespaces; for the node agent and its tests nftables,
# bird2 (BGP), podman with runc and busybox-static (a real container engine, images built
# locally), prometheus (scrapes the agent's metrics) and chromium (the dashboard's browser tests).
# npm packages come from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v sysctl >/dev/null 2>&1 || need+=(procps)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v bird >/dev/null 2>&1 || need+=(bird2)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
# The image is a busybox root filesystem: the binary must be static (Debian's busybox is not).
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || need+=(firefox-esr)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: build"
npm run --silent build
