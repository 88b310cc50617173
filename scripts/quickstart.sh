#!/usr/bin/env bash
# README's main job: set up, then drive cidrpool like calicoctl on a throw-away embedded
# datastore: validate and create the example pools (one of them a calicoctl v1 ipPool) and
# nodes, assign addresses to a few pods on two nodes (one steered by an annotation), and show
# the pools and blocks. With --dashboard, it then serves the result in `cidrpool dashboard` on
# http://127.0.0.1:9180/ until Ctrl-C (the throw-away store is removed afterwards).
set -euo pipefail
dashboard=false
for arg in "$@"; do
  case "$arg" in
    --dashboard) dashboard=true ;;
    *) echo "usage: bash scripts/quickstart.sh [--dashboard]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
bash scripts/setup.sh

CIDRPOOL_DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/cidrpool-quickstart.XXXXXX")"
export CIDRPOOL_DATA_DIR
trap 'rm -rf "$CIDRPOOL_DATA_DIR"' EXIT
# Only the embedded store here, whatever the calling shell has configured.
unset DATASTORE_TYPE ETCD_ENDPOINTS CALICO_DATASTORE_TYPE CALICO_ETCD_ENDPOINTS

step() {
  printf '\n$ cidrpool %s\n' "$*"
  ./bin/cidrpool "$@"
}

echo "quickstart: embedded datastore in $CIDRPOOL_DATA_DIR"
step validate -f examples/
step create -f examples/pools.yaml
step create -f examples/nodes.yaml
step apply -f examples/reservation.yaml
step get ippool -o wide

# Pods: two on node-1, one dual-stack on node-2, and one whose namespace asks for a given pool
# with the ipv4pools annotation. Unpinned pods take the first usable pool by name: the one
# converted from the v1 manifest, 10-1-0-0-16.
step ipam assign --node node-1 --namespace shop --pod frontend-1
step ipam assign --node node-1 --namespace shop --pod frontend-2
step ipam assign --node node-2 --namespace shop --pod backend-1 --ipv6 1
step ipam assign --node node-2 --namespace legacy --pod billing-1 \
  --namespace-annotation 'cni.projectcalico.org/ipv4pools=["default-ipv4-ippool"]'
step get workloadendpoints --all-namespaces
step ipam show --show-blocks
step ipam check

if $dashboard; then
  echo
  echo "quickstart: open http://127.0.0.1:9180/ in a browser; Ctrl-C stops the dashboard"
  step dashboard --listen 127.0.0.1:9180
else
  echo
  echo "quickstart: to see this store in a browser, run: bash scripts/quickstart.sh --dashboard"
fi
