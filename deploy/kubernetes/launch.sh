#!/usr/bin/env bash
# Starts one sharded run in the current kubectl context:
#   1. removes the Jobs of the previous run (a Job's pod template cannot be changed in place),
#   2. (re)creates the smtpbench-run ConfigMap: start-at (now + DELAY, RFC 3339 UTC), target,
#      run-id (names /results/<run-id>/ on the volume),
#   3. applies everything else: kubectl apply -k deploy/kubernetes.
# The shards wait for start-at, so DELAY must cover scheduling and the image pull on every node;
# a shard that starts late starts at once and says so in its summary.
#
# Usage: deploy/kubernetes/launch.sh [TARGET] [DELAY_SECONDS]
#   TARGET  default smtp://smtpbench-sink:2525 (the demo sink of sink.yaml)
#   DELAY   default 90
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
ns=smtpbench   # kustomization.yaml's namespace
target="${1:-smtp://smtpbench-sink:2525}"
delay="${2:-90}"

now=$(date -u +%s)
# GNU date reads -d @EPOCH, BSD (macOS) date -r EPOCH.
start_at=$(date -u -d "@$((now + delay))" +%Y-%m-%dT%H:%M:%SZ 2> /dev/null || date -u -r "$((now + delay))" +%Y-%m-%dT%H:%M:%SZ)
run_id=$(date -u -d "@$now" +%Y%m%dT%H%M%SZ 2> /dev/null || date -u -r "$now" +%Y%m%dT%H%M%SZ)

kubectl apply -f "$here/namespace.yaml"
kubectl -n "$ns" delete job smtpbench-shards smtpbench-merge --ignore-not-found --wait
kubectl -n "$ns" create configmap smtpbench-run \
  --from-literal=start-at="$start_at" \
  --from-literal=target="$target" \
  --from-literal=run-id="$run_id" \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -k "$here"

echo "run-id $run_id: shards start at $start_at against $target"
echo "watch:   kubectl -n $ns get pods -l app.kubernetes.io/name=smtpbench -w"
echo "verdict: kubectl -n $ns get job smtpbench-merge -w   (then: kubectl -n $ns logs job/smtpbench-merge -c smtpbench)"
