#!/usr/bin/env bash
# Benchmarks of Strata on the embedded engines, on this machine, through the
# real binary: what a user of `strata serve` would see.
#
#   upload and download MiB/s of a 1 GiB file, beside dd conv=fdatasync of
#   the same random bytes on the same disk, and their ratio; the CPU seconds
#   (client and server, user and sys) per GiB uploaded; the same upload
#   with the data directory on tmpfs (/dev/shm), where the disk is not the
#   limit;
#   the server's peak RSS for a 256 MiB, a 1 GiB and a 2 GiB upload (fresh
#   servers);
#   write syscalls (and fsyncs) per GiB uploaded, if strace is installed;
#   files per second for 1,000 files of 4 KiB;
#   the first line and the whole of `strata ls` of a folder of 100,000
#   entries (median of three);
#   entries per second of a server-side copy of a folder of 10,000 files;
#   OpenSSH's sftp put and get beside strata put and get on one server
#   (strata serve --ssh), and scp both ways with both protocols;
#   then `go test -bench` of sealing and opening.
# The summary at the end holds every figure of issue 16's targets.
#
# With --aws it runs on S3, DynamoDB and KMS instead, emulated by moto's
# server: upload and download MiB/s of a 1 GiB file, and the KMS calls and
# DynamoDB requests per uploaded file (small files and a resumable upload).
#
# Usage: scripts/bench.sh [--aws] [workdir]   (default: a temp dir under $TMPDIR)
# Sizes can be scaled down for a quick run: BENCH_MIB=256 scripts/bench.sh
#   BENCH_MIB (1024) the big upload and download, also on tmpfs
#   BENCH_RSS_MIB (2048) the upload whose server peak RSS is measured
#   BENCH_FILES (1000) 4 KiB files; BENCH_ENTRIES (100000) entries listed;
#   BENCH_COPY_FILES (10000) files in the folder copied;
#   BENCH_STRACE_MIB (256) the upload strace counts syscalls of (0: none)
#   BENCH_SFTP_MIB (BENCH_MIB) the file moved with sftp, scp and strata
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

aws=
if [ "${1:-}" = "--aws" ]; then
  aws=1
  shift
fi
# A work directory of its own is removed at the end (a run leaves GiBs);
# one given as an argument is kept, to look into.
own_work=
if [ -z "${1:-}" ]; then
  own_work=1
fi
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")}
mkdir -p "$work"
big_mib=${BENCH_MIB:-1024}
small_files=${BENCH_FILES:-1000}
list_entries=${BENCH_ENTRIES:-100000}
rss_mib=${BENCH_RSS_MIB:-2048}
copy_files=${BENCH_COPY_FILES:-10000}
strace_mib=${BENCH_STRACE_MIB:-256}
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
cleanup() {
  stop_server
  if [ -n "$own_work" ]; then
    rm -rf "$work"
  fi
}
trap 'cleanup' EXIT

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
  STRATA_SERVER=$(grep -o 'serving on http://[0-9.:]*' "$log" | head -1 | cut -d' ' -f3)
  export STRATA_SERVER STRATA_TOKEN=$token
}

# warm DATA: reads the object written last under DATA into the page cache.
# Uploads write around the page cache (O_DIRECT), so a download right after
# one would read from the disk where it used to find every byte cached;
# downloads are measured from the cache, as before, so that the figure is
# Strata's work and not this disk's. (A file downloaded long after its
# upload is read from the disk whatever wrote it.)
warm() {
  local last
  last=$( { find "$1/blobs/objects" -mindepth 2 -maxdepth 2 -printf '%T@ %p\n' 2>/dev/null || true; } | sort -n | tail -1 | cut -d' ' -f2-)
  if [ -d "$last" ]; then
    cat "$last"/* >/dev/null
  elif [ -n "$last" ]; then
    cat "$last" >/dev/null
  fi
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

# cpu_ticks PID: user+sys clock ticks a process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# timed CMD...: runs a strata command against the running server and sets
# run_secs (wall) and run_cpu (CPU seconds of the client and of the server
# while it ran, user and sys).
timed() {
  local s0 s1 t0 t1 cu cs
  s0=$(cpu_ticks "$server_pid")
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$work/time.out" "$@" >/dev/null
  t1=$(date +%s.%N)
  s1=$(cpu_ticks "$server_pid")
  read -r cu cs <"$work/time.out"
  run_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  run_cpu=$(awk -v u="$cu" -v s="$cs" -v t=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", u + s + t / hz }')
}

# timed_upload FILE DEST: uploads FILE through the running server and sets
# up_secs and up_cpu (timed).
timed_upload() {
  timed "$bin" put -q "$1" "$2"
  up_secs=$run_secs
  up_cpu=$run_cpu
}

# upload_runs LABEL: three timed uploads of the big file into the running
# server (the first into a fresh one; the last to /home/admin/big.bin),
# each printed; sets up_secs and up_cpu to their medians. On a shared or
# virtual machine one upload's CPU seconds move by a tenth or more.
upload_runs() {
  local i dest secs=() cpus=()
  for i in 1 2 3; do
    dest=/home/admin/big$i.bin
    if [ "$i" = 3 ]; then dest=/home/admin/big.bin; fi
    timed_upload "$work/big.bin" "$dest"
    secs+=("$up_secs")
    cpus+=("$up_cpu")
    echo "$1 run $i: $(rate "$big_mib" "$up_secs") MiB/s, CPU $up_cpu s"
  done
  up_secs=$(printf '%s\n' "${secs[@]}" | median)
  up_cpu=$(printf '%s\n' "${cpus[@]}" | median)
}

# per_gib VALUE MIB: VALUE scaled to one GiB.
per_gib() { awk -v v="$1" -v m="$2" 'BEGIN { printf "%.2f", v * 1024 / m }'; }

# ls_times PATH: lists PATH with strata ls and prints "FIRST WHOLE COUNT":
# milliseconds from starting the command to its first line and to its
# end, as a user at a terminal waits for them, and the lines printed.
ls_times() {
  local t0 t2 n
  t0=$(date +%s%N)
  n=$("$bin" ls "$1" | { IFS= read -r _ && date +%s%N >"$work/first.ns"; echo $(($(wc -l) + 1)); })
  t2=$(date +%s%N)
  awk -v a="$t0" -v f="$(cat "$work/first.ns")" -v b="$t2" -v n="$n" 'BEGIN { printf "%.1f %.1f %d", (f - a) / 1e6, (b - a) / 1e6, n }'
}

# median: the middle of the numbers on standard input.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
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
  warm "$work/data-share"
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

# sftp_bench: SFTP and scp (issue 15). OpenSSH's sftp put and get of a
# ${sftp_mib} MiB file against `strata serve --ssh`, alternated with strata
# put and get of the same file through the same server, three rounds: the
# medians, the ratios (issue 15's target: 0.7 or more) and the CPU seconds
# per GiB of the server and of the client (OpenSSH's sftp and ssh, or
# strata), which the load of the machine does not change; then scp over
# SFTP (OpenSSH's default) and legacy scp -O, one run each way. Skipped
# without OpenSSH's sftp. BENCH_ONLY=sftp runs this section only.
sftp_mib=${BENCH_SFTP_MIB:-$big_mib}
sftp_up=- sftp_down=- sftp_up_ratio=- sftp_down_ratio=- sftp_cipher=-
sftp_bench() {
  echo "== SFTP: OpenSSH sftp put and get of ${sftp_mib} MiB vs strata put and get, one strata serve --ssh, alternated"
  if ! command -v sftp >/dev/null || ! command -v ssh-keygen >/dev/null; then
    echo "sftp: skipped (no OpenSSH sftp client)"
    return
  fi
  local f="$work/sftp.bin" runs="$work/sftp.runs" addr host port
  head -c $((sftp_mib << 20)) /dev/urandom >"$f"
  start_server "$work/data-sftp" --ssh 127.0.0.1:0
  addr=$(grep -o 'SSH .* is served on [0-9.:]*' "$work/data-sftp.log" | awk '{ print $NF }')
  host=${addr%:*} port=${addr##*:}
  rm -f "$work/sftp-key" "$work/sftp-key.pub" "$work/known_hosts" "$runs"
  ssh-keygen -q -t ed25519 -N '' -f "$work/sftp-key"
  "$bin" keys add "$work/sftp-key.pub" >/dev/null
  local ssh_opts=(-i "$work/sftp-key" -o IdentitiesOnly=yes -o BatchMode=yes -F /dev/null
    -o StrictHostKeyChecking=accept-new -o "UserKnownHostsFile=$work/known_hosts")
  # One line of ssh -v: what OpenSSH and the server agreed on.
  sftp_cipher=$(echo pwd | sftp -v -b - -P "$port" "${ssh_opts[@]}" "admin@$host" 2>&1 |
    sed -nE 's/.*kex: server->client cipher: ([^ ]+) MAC: ([^ ]+).*/\1 \2/p' | head -1)
  echo "negotiated (server->client): cipher and MAC $sftp_cipher"
  # xfer NAME CMD...: runs one transfer and adds "NAME MiB/s client-CPU
  # server-CPU" (CPU seconds per GiB) to $runs.
  xfer() {
    local name=$1 s0 s1 t0 t1 cu cs
    shift
    # Each transfer starts with nothing of the one before left to write
    # back (a download's file, a source file just made).
    sync
    s0=$(cpu_ticks "$server_pid")
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$work/time.out" "$@" >/dev/null
    t1=$(date +%s.%N)
    s1=$(cpu_ticks "$server_pid")
    read -r cu cs <"$work/time.out"
    awk -v n="$name" -v m="$sftp_mib" -v a="$t0" -v b="$t1" -v u="$cu" -v s="$cs" -v t=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" \
      'BEGIN { printf "%s %.1f %.2f %.2f\n", n, m / (b - a), (u + s) * 1024 / m, t / hz * 1024 / m }' >>"$runs"
  }
  sftp_batch() { echo "$2" >"$work/sftp.batch"; xfer "$1" sftp -q -b "$work/sftp.batch" -P "$port" "${ssh_opts[@]}" "admin@$host"; }
  for _ in 1 2 3; do
    xfer strata-put "$bin" put -q "$f" /home/admin/sftp.bin
    sftp_batch sftp-put "put $f /home/admin/sftp.bin"
    rm -f "$work/sftp.out"
    warm "$work/data-sftp"
    xfer strata-get "$bin" get -q /home/admin/sftp.bin "$work/sftp.out"
    rm -f "$work/sftp.out"
    warm "$work/data-sftp"
    sftp_batch sftp-get "get /home/admin/sftp.bin $work/sftp.out"
    cmp "$f" "$work/sftp.out"
  done
  rm -f "$work/sftp.out"
  xfer scp-put scp -q -P "$port" "${ssh_opts[@]}" "$f" "admin@$host:/home/admin/scp.bin"
  warm "$work/data-sftp"
  xfer scp-get scp -q -P "$port" "${ssh_opts[@]}" "admin@$host:/home/admin/scp.bin" "$work/sftp.out"
  cmp "$f" "$work/sftp.out"
  rm -f "$work/sftp.out"
  xfer scp-O-put scp -q -O -P "$port" "${ssh_opts[@]}" "$f" "admin@$host:/home/admin/scp-O.bin"
  warm "$work/data-sftp"
  xfer scp-O-get scp -q -O -P "$port" "${ssh_opts[@]}" "admin@$host:/home/admin/scp-O.bin" "$work/sftp.out"
  cmp "$f" "$work/sftp.out"
  rm -f "$work/sftp.out" "$f"
  stop_server
  rm -rf "$work/data-sftp"
  # med NAME FIELD: the median of one figure of NAME's runs.
  med() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$runs" | median; }
  local k
  for k in strata-put sftp-put strata-get sftp-get; do
    echo "$k runs (MiB/s, client CPU s/GiB, server CPU s/GiB): $(awk -v n="$k" '$1 == n { printf "%s%s %s %s", sep, $2, $3, $4; sep = "; " }' "$runs")"
  done
  sftp_up=$(med sftp-put 2) sftp_down=$(med sftp-get 2)
  sftp_up_ratio=$(awk -v a="$sftp_up" -v b="$(med strata-put 2)" 'BEGIN { printf "%.2f", a / b }')
  sftp_down_ratio=$(awk -v a="$sftp_down" -v b="$(med strata-get 2)" 'BEGIN { printf "%.2f", a / b }')
  echo "sftp put: $sftp_up MiB/s, strata put $(med strata-put 2) MiB/s, ratio $sftp_up_ratio (target >= 0.7)"
  echo "sftp get: $sftp_down MiB/s, strata get $(med strata-get 2) MiB/s, ratio $sftp_down_ratio (target >= 0.7)"
  echo "CPU s per GiB (client + server): sftp put $(med sftp-put 3) + $(med sftp-put 4), strata put $(med strata-put 3) + $(med strata-put 4);" \
    "sftp get $(med sftp-get 3) + $(med sftp-get 4), strata get $(med strata-get 3) + $(med strata-get 4)"
  for k in scp-put scp-get scp-O-put scp-O-get; do
    awk -v n="$k" '$1 == n { printf "%s: %s MiB/s, CPU s per GiB client %s + server %s (one run)\n", n, $2, $3, $4 }' "$runs"
  done
}
if [ "${BENCH_ONLY:-}" = sftp ]; then
  echo "Strata SFTP benchmark in $work ($(nproc) cores)"
  sftp_bench
  exit 0
fi

# aws_calls SERVICE: total strata_aws_requests_total of one service, from
# the server's /metrics (served on a listener of its own: --metrics-listen).
aws_calls() {
  curl -fsS "$metrics_url" | awk -v s="service=\"$1\"" 'index($0, s) && /^strata_aws_requests_total/ { n += $NF } END { print n + 0 }'
}

if [ -n "$aws" ]; then
  echo "Strata AWS benchmarks on moto in $work ($(nproc) cores)"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 scripts/moto_server.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  trap 'kill $moto_pid 2>/dev/null || true; cleanup' EXIT
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
  start_server "$work/data-aws" --blob s3://bench/strata --meta dynamodb://bench --keys kms://alias/bench --aws-endpoint "$ep" --metrics-listen 127.0.0.1:0
  metrics_url=$(grep -o 'Metrics are served on http://[0-9.:]*/metrics' "$work/data-aws.log" | cut -d' ' -f5)
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
upload_runs upload
up_rate=$(rate "$big_mib" "$up_secs")
up_cpu_gib=$(per_gib "$up_cpu" "$big_mib")
rss_big=$(peak_rss_mib "$server_pid")
echo "upload: $up_rate MiB/s ($up_secs s, median of 3); ratio to dd: $(rate "$up_rate" "$dd_rate")"
echo "upload CPU (client + server, user + sys): $up_cpu s, $up_cpu_gib s per GiB (median of 3)"
echo "server peak RSS after the ${big_mib} MiB uploads: $rss_big MiB"

echo "== download ${big_mib} MiB"
rm -f "$work/big.out"
# Right after the upload, which wrote around the page cache on ext4 and XFS
# (from the disk there; elsewhere the upload left it cached).
sync
cold_secs=$(seconds "$bin" get -q /home/admin/big.bin "$work/big.out")
cold_rate=$(rate "$big_mib" "$cold_secs")
cmp "$work/big.bin" "$work/big.out"
echo "download right after the upload (from the disk on ext4 and XFS): $cold_rate MiB/s ($cold_secs s), verified"
rm -f "$work/big.out"
warm "$work/data-big"
timed "$bin" get -q /home/admin/big.bin "$work/big.out"
down_secs=$run_secs
down_rate=$(rate "$big_mib" "$down_secs")
down_cpu_gib=$(per_gib "$run_cpu" "$big_mib")
cmp "$work/big.bin" "$work/big.out"
echo "download: $down_rate MiB/s ($down_secs s), verified; CPU $run_cpu s (client + server, user + sys)"
rm -f "$work/big.out"
stop_server

echo "== upload ${big_mib} MiB with the data directory on tmpfs (/dev/shm)"
shm_rate=- shm_cpu_gib=-
if [ -d /dev/shm ] && [ "$(df -Pm /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((big_mib * 4)) ]; then
  shm=$(mktemp -d /dev/shm/strata-bench.XXXXXX)
  start_server "$shm/data"
  upload_runs "upload on tmpfs"
  shm_rate=$(rate "$big_mib" "$up_secs")
  shm_cpu_gib=$(per_gib "$up_cpu" "$big_mib")
  echo "upload on tmpfs: $shm_rate MiB/s ($up_secs s); CPU $up_cpu s, $shm_cpu_gib s per GiB (medians of 3)"
  stop_server
  rm -rf "$shm"
else
  echo "upload on tmpfs: skipped (/dev/shm missing or too small)"
fi

mid_mib=$((big_mib < 256 ? big_mib : 256))
echo "== server peak RSS for a $mid_mib MiB upload (fresh server)"
head -c $((mid_mib << 20)) "$work/big.bin" >"$work/mid.bin"
start_server "$work/data-mid"
"$bin" put -q "$work/mid.bin" /home/admin/mid.bin
rss_mid=$(peak_rss_mib "$server_pid")
echo "server peak RSS after the $mid_mib MiB upload: $rss_mid MiB"
stop_server
rm -rf "$work/data-mid"

echo "== server peak RSS for a ${rss_mib} MiB upload (fresh server)"
head -c $((rss_mib << 20)) /dev/urandom >"$work/rss.bin"
start_server "$work/data-rss"
"$bin" put -q "$work/rss.bin" /home/admin/rss.bin
rss_2g=$(peak_rss_mib "$server_pid")
echo "server peak RSS after the ${rss_mib} MiB upload: $rss_2g MiB"
stop_server
rm -rf "$work/rss.bin" "$work/data-rss"

sys_line="write syscalls: skipped (no strace, or BENCH_STRACE_MIB=0)"
if command -v strace >/dev/null && [ "$strace_mib" -gt 0 ]; then
  echo "== syscalls of the server for a ${strace_mib} MiB upload (strace -c)"
  head -c $((strace_mib << 20)) "$work/big.bin" >"$work/mid.bin"
  start_server "$work/data-strace"
  strace -f -c -qq -o "$work/strace.out" -e trace=write,pwrite64,writev,fsync,fdatasync -p "$server_pid" &
  strace_pid=$!
  sleep 1 # strace attaches to every thread before the upload starts
  "$bin" put -q "$work/mid.bin" /home/admin/mid.bin
  kill -INT "$strace_pid"
  wait "$strace_pid" || true
  stop_server
  calls() { awk -v s="$1" '$NF == s { print $4 }' "$work/strace.out" | awk '{ n += $1 } END { print n + 0 }'; }
  writes=$(( $(calls write) + $(calls pwrite64) + $(calls writev) ))
  syncs=$(( $(calls fsync) + $(calls fdatasync) ))
  sys_line="write syscalls per GiB: $(per_gib "$writes" "$strace_mib") (fsyncs per GiB: $(per_gib "$syncs" "$strace_mib"))"
  echo "$sys_line"
  rm -rf "$work/data-strace"
fi
rm -f "$work/mid.bin" "$work/big.bin"

echo "== $small_files files of 4 KiB"
start_server "$work/data-small"
mkdir -p "$work/small"
for i in $(seq -w 1 "$small_files"); do head -c 4096 /dev/urandom >"$work/small/f$i"; done
# At the default parallelism (-j 4), the issue's target, then at -j 16
# into another folder of the same server.
small_secs=$(seconds "$bin" put -q -r "$work/small" /home/admin/small4)
echo "small files, default -j 4: $(rate "$small_files" "$small_secs") files/s ($small_secs s)"
small16_secs=$(seconds "$bin" put -q -r -j 16 "$work/small" /home/admin/small16)
echo "small files, -j 16: $(rate "$small_files" "$small16_secs") files/s ($small16_secs s)"
stop_server

echo "== listing a folder of $list_entries entries"
start_server "$work/data-list"
mkdir -p "$work/many"
(cd "$work/many" && seq -f 'e%07g' 1 "$list_entries" | xargs touch)
fill_secs=$(seconds "$bin" put -q -r -j 32 "$work/many" /home/admin/many)
echo "(filled with $list_entries empty files in $fill_secs s)"
rm -rf "$work/many"
c0=$(cpu_ticks "$server_pid")
for _ in 1 2 3; do ls_times /home/admin/many; echo; done >"$work/ls.out"
list_cpu=$(awk -v t=$(($(cpu_ticks "$server_pid") - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz / 3 }')
count=$(awk '{ print $3 }' "$work/ls.out" | sort -u | paste -sd/)
list_first=$(awk '{ print $1 }' "$work/ls.out" | median)
list_whole=$(awk '{ print $2 }' "$work/ls.out" | median)
list_secs=$(awk -v ms="$list_whole" 'BEGIN { printf "%.3f", ms / 1000 }')
echo "list runs (first line ms, whole ms, lines): $(paste -sd';' "$work/ls.out")"
echo "list: $count entries in $list_secs s, page by page"
echo "list first line: $list_first ms; whole: $list_whole ms (medians of 3); server CPU per listing: $list_cpu s"
# What of the first line is only starting the binary (package init, the
# runtime), not the listing: strata version, the median of three.
start_ms=$(for _ in 1 2 3; do
  t0=$(date +%s%N); "$bin" version >/dev/null; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000))
done | median)
echo "start of the binary (strata version): $start_ms ms"
stop_server

echo "== copying a folder of $copy_files files on the server"
start_server "$work/data-copy"
mkdir -p "$work/tree"
(cd "$work/tree" && seq -f 'c%07g' 1 "$copy_files" | xargs touch)
"$bin" put -q -r -j 32 "$work/tree" /home/admin/tree
rm -rf "$work/tree"
c0=$(cpu_ticks "$server_pid")
copy_secs=$(seconds "$bin" cp -r /home/admin/tree /home/admin/tree-copy)
copy_cpu=$(awk -v t=$(($(cpu_ticks "$server_pid") - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
copied=$("$bin" ls /home/admin/tree-copy | wc -l)
copy_rate=$(rate $((copied + 1)) "$copy_secs")
echo "folder copy: $((copied + 1)) entries in $copy_secs s, $copy_rate entries/s; server CPU $copy_cpu s"
stop_server

share_bench
sftp_bench

echo "== go test -bench (sealing and opening)"
go test -run '^$' -bench . -benchtime 3x ./backend/crypto/ | grep -E '^Benchmark|ok'

cat <<EOF

Summary ($(date -u +%Y-%m-%d), $(nproc) cores)
  dd conv=fdatasync      $dd_rate MiB/s
  upload ${big_mib} MiB        $up_rate MiB/s  (median of 3; ratio to dd $(rate "$up_rate" "$dd_rate"))
  upload CPU             $up_cpu_gib s per GiB (client + server, user + sys; median of 3)
  upload on tmpfs        $shm_rate MiB/s, $shm_cpu_gib CPU s per GiB
  download ${big_mib} MiB      $down_rate MiB/s from the page cache ($cold_rate right after the upload)
  download CPU           $down_cpu_gib s per GiB (client + server, user + sys; from the page cache)
  peak RSS, $mid_mib MiB up   $rss_mid MiB
  peak RSS, ${big_mib} MiB up   $rss_big MiB
  peak RSS, ${rss_mib} MiB up   $rss_2g MiB
  $sys_line
  4 KiB files            $(rate "$small_files" "$small_secs") files/s at the default -j 4, $(rate "$small_files" "$small16_secs") at -j 16
  list $count entries   $list_secs s
  list first line        $list_first ms, whole $list_whole ms (start of the binary alone $start_ms ms; server CPU $list_cpu s)
  folder copy            $copy_rate entries/s ($copy_files files; server CPU $copy_cpu s)
  share link ${big_mib} MiB    $share_link MiB/s  (GET /v1/files $share_api MiB/s, ratio $(rate "$share_link" "$share_api"))
  shared folder page     $share_page_ms ms  (first page of $share_entries entries, to the first byte)
  sftp put ${sftp_mib} MiB     $sftp_up MiB/s  (ratio to strata put $sftp_up_ratio, target >= 0.7; $sftp_cipher)
  sftp get ${sftp_mib} MiB     $sftp_down MiB/s  (ratio to strata get $sftp_down_ratio, target >= 0.7)
EOF
