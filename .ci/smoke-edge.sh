#!/usr/bin/env bash
# Smoke tests of a deployed environment through its public URL, that is through
# the edge (DNS, TLS certificate, ingress or gateway routes), after a deploy:
#   .ci/smoke-edge.sh https://staging.rauli-vision.com
# - the frontend answers 200 on / with the security headers;
# - the API route reaches the Go backend: any answer but a gateway error (502,
#   503, 504: no ready endpoints behind the route) or a timeout.
# Each check retries while a fresh rollout settles; the first failure ends the run.
set -euo pipefail

base_url="${1:?usage: smoke-edge.sh <public-base-url>}"
attempts="${SMOKE_TEST_ATTEMPTS:-30}"
api_path="${SMOKE_TEST_API_PATH:-/api/}"

# Prints the status code; curl verifies the certificate (no --insecure).
status() {
  curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$@" || echo 000
}

retry() {
  local what="$1" check="$2" i
  for ((i = 1; i <= attempts; i++)); do
    if "$check"; then
      echo "ok   $what"
      return 0
    fi
    sleep 2
  done
  echo "FAIL $what after $attempts attempts" >&2
  return 1
}

frontend() {
  local headers
  headers="$(curl -sS -D - -o /dev/null --max-time 10 "$base_url/" || true)"
  grep -qE '^HTTP/[0-9.]+ 200' <<<"$headers" && grep -qi '^x-content-type-options: nosniff' <<<"$headers"
}

api() {
  local code
  code="$(status "$base_url$api_path")"
  [[ "$code" != 000 && "$code" != 502 && "$code" != 503 && "$code" != 504 ]]
}

retry "$base_url/ (frontend, security headers)" frontend
retry "$base_url$api_path (Go API behind the edge)" api
