# Shared by the scripts that talk to the API (create-admin, api-key, seed): curl + jq.
# shellcheck shell=bash

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$(basename "$0"): $tool is required" >&2; exit 2; }
  done
}

# api METHOD PATH [JSON] [TOKEN]: prints the body, sets API_STATUS. The base URL is $API_URL.
api() {
  local method="$1" path="$2" body="${3:-}" token="${4:-}" out
  local args=(-sS -X "$method" -H 'Accept: application/json' -o /dev/stdout -w '\n%{http_code}')
  [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  [[ -n "$token" ]] && args+=(-H "Authorization: Bearer $token")
  out="$(curl "${args[@]}" "$API_URL$path")" || { echo "$(basename "$0"): cannot reach $API_URL" >&2; exit 1; }
  API_STATUS="${out##*$'\n'}"
  API_BODY="${out%$'\n'*}"
}

# Fails with a clear message when the last call did not answer one of the given statuses.
expect_status() {
  local what="$1"; shift
  local status
  for status in "$@"; do
    [[ "$API_STATUS" == "$status" ]] && return 0
  done
  if [[ "$API_STATUS" == "404" || "$API_STATUS" == "405" ]]; then
    echo "$(basename "$0"): $what: the route is missing on $API_URL ($API_STATUS); is this server too old?" >&2
  else
    echo "$(basename "$0"): $what failed with $API_STATUS: $(jq -r '.detail // .' <<< "$API_BODY" 2>/dev/null \
      || printf '%s' "$API_BODY")" >&2
  fi
  exit 1
}

# Signs in and prints the access token.
login() {
  api POST /api/v1/auth/login "$(jq -nc --arg e "$1" --arg p "$2" '{email: $e, password: $p}')"
  expect_status "sign-in as $1" 200
  jq -r '.data.accessToken' <<< "$API_BODY"
}
