#!/bin/sh
# Applies the log pipeline's lifecycle through the Elasticsearch and Kibana
# APIs: index lifecycle (retention), snapshot repository and policy, and the
# Kibana data view. Every call is a PUT or an overwriting POST, so a re-run
# converges to the same state. Settings come from the environment and the
# JSON bodies from $BODIES (the Job's ConfigMap).
set -eu

: "${ES_URL:?}" "${KIBANA_URL:?}" "${BODIES:?}" "${ELASTIC_PASSWORD_FILE:?}" "${ES_CA_FILE:?}" "${KIBANA_CA_FILE:?}" "${POLICY:?}"
WAIT_SECONDS="${WAIT_SECONDS:-600}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The password goes to curl through a file, never on a command line.
printf 'user = "elastic:%s"\n' "$(cat "$ELASTIC_PASSWORD_FILE")" > "$work/auth"

# call METHOD URL CA BODY-FILE: fails, printing the answer, unless the API says 2xx.
call() {
  code="$(curl -sS -o "$work/answer" -w '%{http_code}' --config "$work/auth" --cacert "$3" \
    -X "$1" -H 'Content-Type: application/json' -H 'kbn-xsrf: true' --data-binary "@$4" "$2")" || {
    echo "lifecycle: $1 $2: no answer" >&2
    return 1
  }
  case "$code" in
    2??) echo "lifecycle: $1 $2: $code" ;;
    *) echo "lifecycle: $1 $2: HTTP $code: $(cat "$work/answer")" >&2; return 1 ;;
  esac
}

# wait_for URL CA: until the API answers 2xx (the stack starts after this Job).
wait_for() {
  deadline=$(( $(date +%s) + WAIT_SECONDS ))
  until curl -sSf -o /dev/null --config "$work/auth" --cacert "$2" "$1" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "lifecycle: $1 did not answer within ${WAIT_SECONDS}s" >&2
      return 1
    fi
    sleep 5
  done
}

wait_for "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=10s" "$ES_CA_FILE"
call PUT "$ES_URL/_ilm/policy/$POLICY" "$ES_CA_FILE" "$BODIES/ilm-policy.json"
if [ -f "$BODIES/repository.json" ]; then
  call PUT "$ES_URL/_snapshot/$POLICY" "$ES_CA_FILE" "$BODIES/repository.json"
  call PUT "$ES_URL/_slm/policy/$POLICY" "$ES_CA_FILE" "$BODIES/slm-policy.json"
fi
wait_for "$KIBANA_URL/api/status" "$KIBANA_CA_FILE"
call POST "$KIBANA_URL/api/data_views/data_view" "$KIBANA_CA_FILE" "$BODIES/data-view.json"
echo "lifecycle: done"
