#!/usr/bin/env bash
# Forms a Redis Cluster once, and is safe to run again at any time.
#
#   - every node empty and alone: create the cluster (redis-cli --cluster create);
#   - cluster formed and every node in it: nothing to do, exit 0;
#   - cluster formed and some nodes empty and alone (a pod that lost its
#     volume, or nodes added by scaling): add them as replicas;
#   - anything else (slots split between separate clusters, a node holding
#     slots the others do not know): fail, a human decides (see the runbook).
#
# Settings (environment):
#   REDIS_NODES                 space- or comma-separated host:port of every node
#   REDIS_REPLICAS_PER_MASTER   replicas per master (default 0)
#   REDISCLI_AUTH               password (read by redis-cli and valkey-cli themselves)
#   REDIS_CLI                   the client binary: redis-cli (default) or valkey-cli
#   BOOTSTRAP_TIMEOUT_SECONDS   how long to wait for nodes and for the cluster
#                               to converge (default 300)
set -euo pipefail

log() {
  printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${0##*/}" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

[[ -n "${REDIS_NODES:-}" ]] || die "required setting REDIS_NODES is empty"
replicas=${REDIS_REPLICAS_PER_MASTER:-0}
timeout=${BOOTSTRAP_TIMEOUT_SECONDS:-300}
[[ "$replicas" =~ ^[0-9]+$ ]] || die "REDIS_REPLICAS_PER_MASTER must be a whole number, got '${replicas}'"
read -r -a nodes <<<"${REDIS_NODES//,/ }"
redis_cli=${REDIS_CLI:-redis-cli}
count=${#nodes[@]}
masters=$((count / (replicas + 1)))
((count % (replicas + 1) == 0 && masters >= 3)) ||
  die "${count} node(s) cannot form a cluster of at least 3 masters with ${replicas} replica(s) each"

# cli <host:port> <command...>
cli() {
  local node=$1
  shift
  "$redis_cli" -h "${node%:*}" -p "${node##*:}" --no-raw "$@"
}

# info_field <host:port> <field>: one field of CLUSTER INFO.
info_field() {
  cli "$1" CLUSTER INFO | tr -d '\r' | sed -n "s/^$2://p"
}

# address <host:port>: the node as ip:port; redis-cli --cluster create wants
# addresses, and pod DNS names resolve to the current pod IP.
address() {
  local host=${1%:*} port=${1##*:} ip
  if [[ "$host" =~ ^[0-9.]+$ ]]; then
    ip=$host
  else
    ip=$(getent hosts "$host" | awk '{ print $1; exit }')
    [[ -n "$ip" ]] || die "cannot resolve ${host}"
  fi
  printf '%s:%s\n' "$ip" "$port"
}

wait_until() {
  local what=$1 deadline=$((SECONDS + timeout))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for ${what}"
    sleep 2
  done
}

all_answer() {
  local node reply
  for node in "${nodes[@]}"; do
    reply=$(cli "$node" PING 2>/dev/null | tr -d '\r') || return 1
    [[ "$reply" == PONG ]] || { log "${node} answered '${reply}'"; return 1; }
  done
}

all_ok() {
  local node
  for node in "${nodes[@]}"; do
    [[ "$(info_field "$node" cluster_state)" == ok ]] || return 1
    [[ "$(info_field "$node" cluster_known_nodes)" -ge "$count" ]] || return 1
  done
}

# forget_replaced <host:port>: a node that came back with an empty volume has a
# new ID; its old entry stays behind as failed. Forget the old entry on every
# node when it owns no slots and is certainly the same node: same announced
# hostname, or no address left (the new node took it over).
forget_replaced() {
  local node=$1 host=${1%:*} id addr flags slots member
  wait_until "the cluster to see ${node}" all_ok
  while read -r id addr flags slots; do
    [[ "$flags" == *fail* && "$flags" != *fail\?* || "$flags" == *noaddr* ]] || continue
    [[ -z "$slots" ]] || continue
    [[ "$flags" == *noaddr* || "${addr#*,}" == "$host" ]] || continue
    log "forgetting ${id}, the replaced entry of ${node}"
    for member in "${nodes[@]}"; do
      cli "$member" CLUSTER FORGET "$id" >/dev/null || true
    done
  done < <(cli "$anchor" CLUSTER NODES | tr -d '\r' | awk '{ slots = ""; for (i = 9; i <= NF; i++) slots = slots $i; print $1, $2, $3, slots }')
}

wait_until "all ${count} nodes to answer PING" all_answer

anchor=''
alone=()
for node in "${nodes[@]}"; do
  assigned=$(info_field "$node" cluster_slots_assigned)
  known=$(info_field "$node" cluster_known_nodes)
  [[ -n "$assigned" && -n "$known" ]] || die "${node} is not in cluster mode (cluster-enabled yes)"
  if ((assigned == 16384)) && [[ -z "$anchor" ]]; then
    anchor=$node
  elif ((assigned == 0 && known == 1)); then
    alone+=("$node")
  fi
done

if [[ -z "$anchor" ]]; then
  ((${#alone[@]} == count)) ||
    die "no node serves all 16384 slots but some nodes are already clustered: partial state, see the disaster-recovery runbook"
  addresses=()
  for node in "${nodes[@]}"; do addresses+=("$(address "$node")"); done
  log "creating a cluster of ${masters} masters with ${replicas} replica(s) each"
  "$redis_cli" --cluster create "${addresses[@]}" --cluster-replicas "$replicas" --cluster-yes
elif ((${#alone[@]} == 0)); then
  log "cluster already formed (anchor ${anchor}); nothing to do"
else
  anchor_address=$(address "$anchor")
  for node in "${alone[@]}"; do
    log "adding empty node ${node} to the cluster as a replica"
    "$redis_cli" --cluster add-node "$(address "$node")" "$anchor_address" --cluster-slave
    forget_replaced "$node"
  done
fi

# A node holding slots the anchor does not know about belongs to another
# cluster: all_ok never sees it reach the full node count, and we fail.
wait_until "cluster_state:ok and ${count} known nodes on every node" all_ok
"$redis_cli" --cluster check "$(address "${anchor:-${nodes[0]}}")"
log "cluster healthy: ${masters} masters, ${count} nodes"
