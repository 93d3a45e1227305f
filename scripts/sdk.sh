# Alibaba's official SDKs against the embedded bucket: oss2 2.19.1 (Python) and ali-oss 6.23.0
# (Node). To be sourced; defines sdk_install and sdk_run.
#
#   source scripts/sdk.sh
#   sdk_install                                   # idempotent
#   sdk_run http://127.0.0.1:9300 portal-dev "$AK" "$SK" local
#
# sdk_run runs each client (tests/sdk/oss2_client.py, tests/sdk/ali_oss_client.mjs) in four
# configurations, addressing path|cname x signature v1|v4; SDK_STYLES (default "path cname") and
# SDK_VERSIONS (default "v1 v4") narrow or widen that (ali-oss also knows "ip": the bare IP
# endpoint, which ali-oss addresses by a Host of <bucket>.oss-<region>.aliyuncs.com). Every
# configuration runs even when one fails; sdk_run returns 1 if any check failed.

SDK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SDK_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/upload-portal/sdk-venv"
SDK_OSS2_VERSION=2.19.1

# sdk_install: the venv with oss2 (Debian's python3 refuses a system-wide pip install), and
# tests/sdk/node_modules from the lock file. Each step only when what it makes is missing.
sdk_install() {
  if ! "$SDK_VENV/bin/python" -c "import oss2, sys; sys.exit(oss2.__version__ != '$SDK_OSS2_VERSION')" 2>/dev/null; then
    if [ ! -x "$SDK_VENV/bin/pip" ]; then
      rm -rf "$SDK_VENV"
      mkdir -p "$(dirname "$SDK_VENV")"
      # Debian's python3 lacks the venv module (ensurepip) until python3-venv is installed.
      python3 -m venv "$SDK_VENV" 2>/dev/null || {
        rm -rf "$SDK_VENV"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
        python3 -m venv "$SDK_VENV"
      } || return
    fi
    "$SDK_VENV/bin/pip" install --quiet --disable-pip-version-check "oss2==$SDK_OSS2_VERSION" || return
  fi
  if [ ! -d "$SDK_ROOT/tests/sdk/node_modules/ali-oss" ] \
     || [ "$SDK_ROOT/tests/sdk/package-lock.json" -nt "$SDK_ROOT/tests/sdk/node_modules/.package-lock.json" ]; then
    (cd "$SDK_ROOT/tests/sdk" && npm ci --no-audit --no-fund --loglevel=error) || return
  fi
}

# sdk_run ENDPOINT BUCKET AK SK REGION: both clients, every configuration; ENDPOINT is the
# bucket's IP endpoint (http://127.0.0.1:9300), REGION without the oss- prefix (local).
sdk_run() {
  if [ $# -ne 5 ]; then
    echo "usage: sdk_run ENDPOINT BUCKET AK SK REGION" >&2
    return 2
  fi
  local endpoint=$1 bucket=$2 ak=$3 sk=$4 region=$5
  local style version client status failed=0 runs=0 bad=0
  for client in oss2 ali-oss; do
    for style in ${SDK_STYLES:-path cname}; do
      if [ "$client" = oss2 ] && [ "$style" = ip ]; then
        continue # oss2 on an IP endpoint is "path"
      fi
      for version in ${SDK_VERSIONS:-v1 v4}; do
        echo "== $client, addressing $style, signature $version"
        status=0
        if [ "$client" = oss2 ]; then
          SDK_ENDPOINT=$endpoint SDK_BUCKET=$bucket SDK_AK=$ak SDK_SK=$sk SDK_REGION=$region \
            SDK_STYLE=$style SDK_VERSION=$version \
            timeout 60 "$SDK_VENV/bin/python" "$SDK_ROOT/tests/sdk/oss2_client.py" || status=$?
        else
          SDK_ENDPOINT=$endpoint SDK_BUCKET=$bucket SDK_AK=$ak SDK_SK=$sk SDK_REGION=$region \
            SDK_STYLE=$style SDK_VERSION=$version \
            timeout 60 node "$SDK_ROOT/tests/sdk/ali_oss_client.mjs" || status=$?
        fi
        runs=$((runs + 1))
        if [ "$status" -ne 0 ]; then
          bad=$((bad + 1))
          failed=1
        fi
      done
    done
  done
  echo "SDK configurations: $((runs - bad)) of $runs without a failed check"
  return "$failed"
}
