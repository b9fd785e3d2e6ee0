#!/usr/bin/env bash
# Benchmarks of Strata on the embedded engines, on this machine, through the
# real binary: what a user of `strata serve` would see.
#
#   upload and download MiB/s of a 1 GiB file, beside dd conv=fdatasync of
#   the same size on the same disk, and their ratio;
#   the server's peak RSS for a 256 MiB and a 1 GiB upload (fresh servers);
#   files per second for 1,000 files of 4 KiB;
#   time to list a folder of 20,000 entries page by page;
#   then `go test -bench` of sealing and opening.
#
# With --aws it runs on S3, DynamoDB and KMS instead, emulated by moto's
# server: upload and download MiB/s of a 1 GiB file, and the KMS calls and
# DynamoDB requests per uploaded file (small files and a resumable upload).
#
# Usage: scripts/bench.sh [--aws] [workdir]   (default: a temp dir under $TMPDIR)
# Sizes can be scaled down for a quick run: BENCH_MIB=256 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

aws=
if [ "${1:-}" = "--aws" ]; then
  aws=1
  shift
fi
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")}
mkdir -p "$work"
big_mib=${BENCH_MIB:-1024}
small_files=${BENCH_FILES:-1000}
list_entries=${BENCH_ENTRIES:-20000}
token=strata_benchAdmin4Wq8Ze1Rt6Yu3Io9Pa2Sd7Fg5Hj0Kl

bin="$work/strata"
go build -o "$bin" ./cmd/strata

server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap 'stop_server' EXIT

# start_server DATA [serve flags...]: starts strata serve, sets server_pid
# and STRATA_SERVER.
start_server() {
  local data=$1 log="$1.log"
  shift
  rm -rf "$data"
  STRATA_ADMIN_TOKEN=$token "$bin" serve --data "$data" --listen 127.0.0.1:0 --log-level warn "$@" >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    if grep -q "serving on" "$log"; then break; fi
    sleep 0.1
  done
  STRATA_SERVER=$(grep -o 'http://[0-9.:]*' "$log" | head -1)
  export STRATA_SERVER STRATA_TOKEN=$token
}

peak_rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# seconds DURATION_CMD...: wall seconds of a command, to the millisecond.
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

rate() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

# share_bench: share links (issue 13). A ${big_mib} MiB download through a
# link (/s/<token>/raw) beside the authenticated GET /v1/files of the same
# file, on one server, alternated three times each with curl (so that the
# machine's load falls on both alike); then the first page of a shared
# folder of $share_entries entries: the server's time to its first byte,
# measured by curl on the loopback, the median of 5. BENCH_ONLY=share runs
# this section only.
share_entries=${BENCH_SHARE_ENTRIES:-10000}
share_bench() {
  echo "== share links: a ${big_mib} MiB download through a link vs GET /v1/files (alternated)"
  [ -f "$work/share.bin" ] || head -c $((big_mib << 20)) /dev/urandom >"$work/share.bin"
  start_server "$work/data-share"
  "$bin" put -q "$work/share.bin" /home/admin/share.bin
  local url raw api_rates=() link_rates=() secs
  url=$("$bin" share create -q /home/admin/share.bin --expires 1d)
  raw="$url/raw"
  for i in 1 2 3; do
    secs=$(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "$STRATA_SERVER/v1/files/home/admin/share.bin")
    api_rates+=("$(rate "$big_mib" "$secs")")
    secs=$(curl -sf -o /dev/null -w '%{time_total}' "$raw")
    link_rates+=("$(rate "$big_mib" "$secs")")
  done
  share_api=$(printf '%s\n' "${api_rates[@]}" | sort -n | sed -n 2p)
  share_link=$(printf '%s\n' "${link_rates[@]}" | sort -n | sed -n 2p)
  echo "GET /v1/files runs: ${api_rates[*]} MiB/s; link runs: ${link_rates[*]} MiB/s"
  echo "link download: $share_link MiB/s, GET /v1/files $share_api MiB/s, ratio $(rate "$share_link" "$share_api")"

  echo "== share links: first page of a shared folder of $share_entries entries"
  mkdir -p "$work/shared"
  for i in $(seq -w 1 "$share_entries"); do : >"$work/shared/e$i"; done
  "$bin" put -q -r -j 32 "$work/shared" /home/admin/shared
  url=$("$bin" share create -q /home/admin/shared --expires 1d)
  local ttfbs=()
  for i in 1 2 3 4 5; do
    ttfbs+=("$(curl -sf -o /dev/null -w '%{time_starttransfer}' "$url")")
  done
  share_page_ms=$(printf '%s\n' "${ttfbs[@]}" | sort -n | sed -n 3p | awk '{printf "%.1f", $1 * 1000}')
  echo "first page runs (s): ${ttfbs[*]}"
  echo "first page of $share_entries shared entries: $share_page_ms ms to the first byte (median of 5)"
  stop_server
  rm -f "$work/share.bin"
}
if [ "${BENCH_ONLY:-}" = share ]; then
  share_bench
  exit 0
fi

# aws_calls SERVICE: total strata_aws_requests_total of one service.
aws_calls() {
  curl -fsS "$STRATA_SERVER/metrics" | awk -v s="service=\"$1\"" 'index($0, s) && /^strata_aws_requests_total/ { n += $NF } END { print n + 0 }'
}

if [ -n "$aws" ]; then
  echo "Strata AWS benchmarks on moto in $work ($(nproc) cores)"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 scripts/moto_server.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  trap 'stop_server; kill $moto_pid 2>/dev/null || true' EXIT
  ep="http://127.0.0.1:$port"
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
  for _ in $(seq 100); do curl -fsS -o /dev/null "$ep/moto-api/" 2>/dev/null && break; sleep 0.2; done
  python3 - "$ep" <<'PY'
import sys, boto3
ep = sys.argv[1]
kw = dict(endpoint_url=ep, region_name="us-east-1")
boto3.client("s3", **kw).create_bucket(Bucket="bench")
boto3.client("dynamodb", **kw).create_table(TableName="bench", BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}])
kms = boto3.client("kms", **kw)
kms.create_alias(AliasName="alias/bench", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
PY
  start_server "$work/data-aws" --blob s3://bench/strata --meta dynamodb://bench --keys kms://alias/bench --aws-endpoint "$ep"
  head -c $((big_mib << 20)) /dev/urandom >"$work/big.bin"
  up_secs=$(seconds "$bin" put -q "$work/big.bin" /home/admin/big.bin)
  echo "upload ${big_mib} MiB: $(rate "$big_mib" "$up_secs") MiB/s ($up_secs s)"
  down_secs=$(seconds "$bin" get -q /home/admin/big.bin "$work/big.out")
  cmp "$work/big.bin" "$work/big.out"
  echo "download ${big_mib} MiB: $(rate "$big_mib" "$down_secs") MiB/s ($down_secs s), verified"
  rm -f "$work/big.bin" "$work/big.out"
  mkdir -p "$work/small"
  for i in $(seq -w 1 100); do head -c 4096 /dev/urandom >"$work/small/f$i"; done
  "$bin" mkdir -p /home/admin/small
  k0=$(aws_calls KMS); d0=$(aws_calls DynamoDB)
  "$bin" put -q -j 1 "$work"/small/* /home/admin/small/
  k1=$(aws_calls KMS); d1=$(aws_calls DynamoDB)
  echo "per 4 KiB file (single PUT): $(rate $((k1 - k0)) 100) KMS calls, $(rate $((d1 - d0)) 100) DynamoDB requests"
  head -c $((64 << 20)) /dev/urandom >"$work/mid.bin"
  "$bin" put -q --part-size 16777216 -j 4 "$work/mid.bin" /home/admin/warm.bin
  k1=$(aws_calls KMS); d1=$(aws_calls DynamoDB)
  "$bin" put -q --part-size 16777216 -j 4 "$work/mid.bin" /home/admin/mid.bin
  k2=$(aws_calls KMS); d2=$(aws_calls DynamoDB)
  echo "per 64 MiB file (resumable session, 4 parts): $((k2 - k1)) KMS calls, $((d2 - d1)) DynamoDB requests"
  rm -f "$work/mid.bin"
  exit 0
fi

echo "Strata benchmarks in $work ($(nproc) cores, $(go version | cut -d' ' -f3))"

echo "== preparing a ${big_mib} MiB file of random bytes"
head -c $((big_mib << 20)) /dev/urandom >"$work/big.bin"
sync

echo "== dd conv=fdatasync, ${big_mib} MiB of the same random bytes, same disk, 3 runs"
# Random bytes, not /dev/zero: virtual disks may store zeros for free, and
# Strata writes ciphertext. The median of three runs, as disks here vary.
dd_rates=()
# Each run writes a new file, kept until all are done: Strata's upload
# allocates fresh blocks too, and rewriting the blocks a deleted file just
# freed can be several times faster on a virtual disk.
for i in 1 2 3; do
  out=$(dd if="$work/big.bin" of="$work/dd$i.bin" bs=1M conv=fdatasync 2>&1 | tail -1)
  secs=$(echo "$out" | sed -E 's/.* copied, ([0-9.]+) s.*/\1/')
  dd_rates+=("$(rate "$big_mib" "$secs")")
done
rm -f "$work"/dd[123].bin
dd_rate=$(printf '%s\n' "${dd_rates[@]}" | sort -n | sed -n 2p)
echo "dd runs: ${dd_rates[*]} MiB/s"
echo "dd: $dd_rate MiB/s"

echo "== upload ${big_mib} MiB through strata serve"
start_server "$work/data-big"
up_secs=$(seconds "$bin" put -q "$work/big.bin" /home/admin/big.bin)
up_rate=$(rate "$big_mib" "$up_secs")
rss_big=$(peak_rss_mib "$server_pid")
echo "upload: $up_rate MiB/s ($up_secs s); ratio to dd: $(rate "$up_rate" "$dd_rate")"
echo "server peak RSS after the ${big_mib} MiB upload: $rss_big MiB"

echo "== download ${big_mib} MiB"
rm -f "$work/big.out"
down_secs=$(seconds "$bin" get -q /home/admin/big.bin "$work/big.out")
down_rate=$(rate "$big_mib" "$down_secs")
cmp "$work/big.bin" "$work/big.out"
echo "download: $down_rate MiB/s ($down_secs s), verified"
rm -f "$work/big.out"
stop_server

echo "== server peak RSS for a 256 MiB upload (fresh server)"
head -c $((256 << 20)) "$work/big.bin" >"$work/mid.bin"
start_server "$work/data-mid"
"$bin" put -q "$work/mid.bin" /home/admin/mid.bin
rss_mid=$(peak_rss_mib "$server_pid")
echo "server peak RSS after the 256 MiB upload: $rss_mid MiB"
stop_server
rm -f "$work/mid.bin" "$work/big.bin"

echo "== $small_files files of 4 KiB"
start_server "$work/data-small"
mkdir -p "$work/small"
for i in $(seq -w 1 "$small_files"); do head -c 4096 /dev/urandom >"$work/small/f$i"; done
small_secs=$(seconds "$bin" put -q -r -j 16 "$work/small" /home/admin/small)
echo "small files: $(rate "$small_files" "$small_secs") files/s ($small_secs s)"
stop_server

echo "== listing a folder of $list_entries entries"
start_server "$work/data-list"
mkdir -p "$work/many"
for i in $(seq -w 1 "$list_entries"); do : >"$work/many/e$i"; done
fill_secs=$(seconds "$bin" put -q -r -j 32 "$work/many" /home/admin/many)
echo "(filled with $list_entries empty files in $fill_secs s)"
list_secs=$(seconds "$bin" ls /home/admin/many)
count=$("$bin" ls /home/admin/many | wc -l)
echo "list: $count entries in $list_secs s, page by page"
stop_server

share_bench

echo "== go test -bench (sealing and opening)"
go test -run '^$' -bench . -benchtime 3x ./backend/crypto/ | grep -E '^Benchmark|ok'

cat <<EOF

Summary ($(date -u +%Y-%m-%d), $(nproc) cores)
  dd conv=fdatasync      $dd_rate MiB/s
  upload ${big_mib} MiB        $up_rate MiB/s  (ratio to dd $(rate "$up_rate" "$dd_rate"))
  download ${big_mib} MiB      $down_rate MiB/s
  peak RSS, 256 MiB up   $rss_mid MiB
  peak RSS, ${big_mib} MiB up   $rss_big MiB
  4 KiB files            $(rate "$small_files" "$small_secs") files/s
  list $count entries   $list_secs s
  share link ${big_mib} MiB    $share_link MiB/s  (GET /v1/files $share_api MiB/s, ratio $(rate "$share_link" "$share_api"))
  shared folder page     $share_page_ms ms  (first page of $share_entries entries, to the first byte)
EOF
