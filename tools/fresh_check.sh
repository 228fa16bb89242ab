#!/usr/bin/env bash
# Proves the README's two commands on a clean Debian 12: bootstraps a minimal
# bookworm root (debootstrap --variant=minbase: no ca-certificates, no sudo,
# no compiler, nothing the project's tools/deps.sh does not install itself),
# clones this repository into it, and inside the chroot, as root:
#   1. runs `tools/run.sh` in the background until the server answers
#      `build/release/tools/cli/pstrack whoami` with
#      PSTRACK_API_KEY_FILE=$PWD/var/admin.key (as the README says), then
#      stops it with SIGTERM to its process group;
#   2. checks that every command the scripts and tests call is there;
#   3. runs `tools/test.sh` (both presets, every test).
# Prints FRESH CHECK PASSED, or FRESH CHECK FAILED: <reason>, as its last line
# and exits non-zero on any failure.
#
# What is tested is a fresh `git clone` of HEAD: uncommitted changes in this
# working tree are NOT tested (the script says so when there are any) unless
# --with-changes is given, which applies the tracked files' uncommitted
# changes on top of HEAD in the clone and copies the untracked files git does
# not ignore (the tree `git add -A` would commit).
#
# Must run as root on a host that can reach its own Debian mirror (read from
# /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources}); installs
# debootstrap on the host if it is missing. tools/run.sh and tools/test.sh
# build everything from scratch: on 2 cores allow 1-3 hours in all.
#
#   tools/fresh_check.sh [options]
#     --root DIR        where to work (default /var/tmp/pstrack-fresh). DIR holds
#                       base/ (the pristine debootstrap), root/ (this run's
#                       chroot, a copy of base/), apt-archives/ (downloaded .debs,
#                       kept between runs so reruns need not download them again)
#     --reuse           skip debootstrap if DIR already holds a bootstrapped base/;
#                       root/ is still a fresh copy of it and the repository is
#                       still cloned afresh, so deps.sh still starts from minbase
#     --keep            keep DIR (base/, root/ with the build, apt-archives/) for
#                       inspection or a later --reuse. Without it, root/ is
#                       removed at exit, and so is all of DIR if this run made it
#     --only-deps       stop after `bash tools/deps.sh` and the checks of the
#                       commands the scripts call (no build)
#     --only-run        stop after the run-command check (no tools/test.sh)
#     --with-changes    also test the working tree's uncommitted changes (tracked
#                       files' changes, and untracked files that are not ignored)
#     --mirror URL      Debian mirror to use instead of the host's
#     --run-timeout MIN how long tools/run.sh may take to answer (default 90)
#     --test-timeout MIN how long tools/test.sh may take (default 300)
# Logs: one per step in DIR-logs/<UTC time>/ (kept; DIR-logs/latest points to it).
#
# Inside the chroot: /proc, /sys (read-only), /dev, /dev/pts (bound from the
# host), a private tmpfs on /dev/shm (PostgreSQL's shared memory) and
# apt-archives/ on /var/cache/apt/archives are mounted; the host's
# /etc/resolv.conf is copied; /etc/hosts and the apt sources (bookworm,
# bookworm-updates, bookworm-security) are written as an installed machine has
# them; /usr/sbin/policy-rc.d forbids package scripts to start services (the
# postgresql and nginx packages would otherwise start daemons on the host's
# network, ports 5432 and 80). Everything is unmounted, in reverse order (lazily
# if busy), and every process left in the chroot is ended, on any exit,
# including failures and Ctrl-C. The chroot shares the host's network: if
# 127.0.0.1:50051 is taken, tools/run.sh is given PSTRACK_LISTEN (and the CLI
# PSTRACK_SERVER) for a free port, and the script says so; likewise
# PSTRACK_HTTP_LISTEN when 127.0.0.1:8080 is taken.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=/var/tmp/pstrack-fresh
KEEP=0 REUSE=0 STOP_AFTER=test WITH_CHANGES=0 MIRROR="" RUN_TIMEOUT_MIN=90 TEST_TIMEOUT_MIN=300
SUITE=bookworm

usage() { sed -n '/^#   tools\/fresh_check.sh/,/^# Logs:/p' "$0" | sed 's/^# \{0,1\}//'; }
die_early() { echo "fresh_check: $*" >&2; echo "FRESH CHECK FAILED: $*"; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --root) DIR=${2:?--root needs a directory}; shift 2 ;;
    --root=*) DIR=${1#--root=}; shift ;;
    --reuse) REUSE=1; shift ;;
    --keep) KEEP=1; shift ;;
    --only-deps) STOP_AFTER=deps; shift ;;
    --only-run) STOP_AFTER=run; shift ;;
    --with-changes) WITH_CHANGES=1; shift ;;
    --mirror) MIRROR=${2:?--mirror needs a URL}; shift 2 ;;
    --mirror=*) MIRROR=${1#--mirror=}; shift ;;
    --run-timeout) RUN_TIMEOUT_MIN=${2:?}; shift 2 ;;
    --test-timeout) TEST_TIMEOUT_MIN=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die_early "unknown option $1" ;;
  esac
done
[[ "$RUN_TIMEOUT_MIN" =~ ^[0-9]+$ && "$TEST_TIMEOUT_MIN" =~ ^[0-9]+$ ]] || die_early "timeouts are whole minutes"

# ---------------------------------------------------------------- reporting
REASON="" FINISHED=0
STEP_NAMES=() STEP_SECS=() STEP_RESULTS=() STEP_T0=0 STEP_NAME="" STEP_LOG=""
T_START=$(date +%s)
ts() { date -u +%H:%M:%S; }
say() { echo "[$(ts)] $*"; }
fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
fail() { REASON="$*"; [ -z "$STEP_NAME" ] || step_end FAILED; exit 1; }
step() {  # step NN-name "what it does"
  STEP_NAME=$1 STEP_LOG="$LOGDIR/$1.log" STEP_T0=$(date +%s)
  : >"$STEP_LOG"
  say "==> $2 (log: $STEP_LOG)"
}
step_end() {
  local secs=$(($(date +%s) - STEP_T0))
  STEP_NAMES+=("$STEP_NAME") STEP_SECS+=("$secs") STEP_RESULTS+=("${1:-ok}")
  say "    ${1:-ok} in $(fmt_secs "$secs")"
  STEP_NAME=""
}
show_tail() { echo "    --- last lines of $1 ---"; tail -n "${2:-25}" "$1" | sed 's/^/    | /'; echo "    ---"; }

# ------------------------------------------------------------------ checks
[ "$(id -u)" -eq 0 ] || die_early "must run as root (debootstrap, chroot, mount)"
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
DIR=$(realpath -m "$DIR")
if [[ "$DIR" =~ [[:space:]] ]] || [ "$(echo "$DIR" | tr -cd / | wc -c)" -lt 2 ]; then
  die_early "--root must be a path at least two levels deep, without spaces (got $DIR)"
fi
case "$DIR" in "$REPO"|"$REPO"/*) die_early "--root must be outside the repository" ;; esac
BASE=$DIR/base ROOT=$DIR/root CACHE=$DIR/apt-archives MARK=$DIR/.pstrack-fresh
if [ -e "$DIR" ] && [ ! -e "$MARK" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
  die_early "$DIR exists, is not empty and was not made by this script; choose another --root"
fi
mkdir -p "$DIR-logs"
exec 9>"$DIR-logs/.lock"
flock -n 9 || die_early "another fresh_check.sh is using $DIR"
LOGDIR="$DIR-logs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$LOGDIR"
ln -sfn "$LOGDIR" "$DIR-logs/latest"

# ----------------------------------------------------------------- cleanup
MOUNTED=() BG_PID="" MADE_DIR=0
mounts_under() {  # mount points at or below $1, deepest first
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
chroot_pids() {  # processes whose root directory is inside $DIR
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    if [[ "$r" == "$DIR"/* ]]; then echo "${p#/proc/}"; fi
  done
}
end_chroot_processes() {
  local pids i
  pids=$(chroot_pids)
  [ -n "$pids" ] || return 0
  say "    ending processes left in the chroot: $(echo $pids)"
  kill -TERM $pids 2>/dev/null
  for i in $(seq 20); do sleep 0.5; pids=$(chroot_pids); [ -n "$pids" ] || return 0; done
  kill -KILL $pids 2>/dev/null
  sleep 1
}
unmount_all() {
  local i m
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    m=${MOUNTED[i]}
    mountpoint -q "$m" 2>/dev/null || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "    could not unmount $m" >&2
  done
  MOUNTED=()
  for i in 1 2 3; do  # anything else under DIR (e.g. debootstrap's own mounts after Ctrl-C)
    m=$(mounts_under "$DIR")
    [ -n "$m" ] || return 0
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done <<<"$m"
  done
  [ -z "$(mounts_under "$DIR")" ]
}
safe_rm() {  # removes a directory under DIR only when nothing is mounted below it
  if [ -n "$(mounts_under "$1")" ]; then
    echo "fresh_check: not removing $1: still mounted: $(mounts_under "$1" | tr '\n' ' ')" >&2; return 1
  fi
  rm -rf --one-file-system "$1"
}
alive() {  # a child that has exited but not been waited for counts as gone
  local s
  s=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}
stop_bg() {  # SIGTERM to the background job's process group, then SIGKILL
  local pid=$BG_PID i
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  for i in $(seq 60); do alive "$pid" || break; sleep 1; done
  alive "$pid" && kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  BG_PID=""
}
on_exit() {
  local rc=$? kept=""
  set +e
  exec 1>&7 2>&8  # a trap runs inside the redirections of the command it interrupted
  trap - INT TERM HUP
  if [ "$FINISHED" -ne 1 ] && [ -z "$REASON" ]; then
    REASON="the script stopped unexpectedly (exit status $rc${ERR_LINE:+ at line $ERR_LINE of $0})"
  fi
  [ -z "$STEP_NAME" ] || step_end FAILED
  say "==> cleaning up"
  stop_bg
  end_chroot_processes
  if ! unmount_all; then
    echo "    still mounted under $DIR:" >&2; mounts_under "$DIR" >&2
    [ -n "$REASON" ] || REASON="could not unmount everything under $DIR"
    KEEP=1
  fi
  if [ ! -d "$DIR" ]; then
    :
  elif [ "$KEEP" -eq 1 ]; then
    kept="kept $DIR"
  elif [ "$MADE_DIR" -eq 1 ]; then
    safe_rm "$DIR" && kept="removed $DIR"
  elif [ -d "$ROOT" ]; then
    safe_rm "$ROOT" && kept="removed $ROOT (base/ and apt-archives/ kept for --reuse)"
  fi
  echo
  echo "Steps (logs in $LOGDIR):"
  local i
  for i in "${!STEP_NAMES[@]}"; do
    printf '  %-14s %-7s %s\n' "${STEP_NAMES[i]}" "${STEP_RESULTS[i]}" "$(fmt_secs "${STEP_SECS[i]}")"
  done
  echo "  total          $(fmt_secs $(($(date +%s) - T_START)))${kept:+; $kept}"
  echo "Checked: ${CHECKED:-nothing}"
  if [ -z "$REASON" ] && [ "$FINISHED" -eq 1 ]; then
    echo "FRESH CHECK PASSED${PASS_NOTE:+ ($PASS_NOTE)}"
    exit 0
  fi
  echo "FRESH CHECK FAILED: $REASON"
  [ "$rc" -ne 0 ] && exit "$rc"
  exit 1
}
ERR_LINE=""
exec 7>&1 8>&2
trap on_exit EXIT
trap 'ERR_LINE=${ERR_LINE:-$LINENO}' ERR
trap 'REASON="interrupted"; exit 130' INT
trap 'REASON="terminated"; exit 143' TERM HUP


# --------------------------------------------------------------- the mirror
host_apt_sources() {  # prints "URI SUITE" for each deb source of the host
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '/^[[:space:]]*deb[[:space:]]/ {
           sub(/^[[:space:]]*deb[[:space:]]+/, ""); if ($0 ~ /^\[/) sub(/^\[[^]]*\][[:space:]]*/, "")
           print $1, $2 }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush(  n, m, i, j, U, S) {
           if (types ~ /(^|[[:space:]])deb([[:space:]]|$)/ && enabled != "no") {
             n = split(uris, U, /[[:space:]]+/); m = split(suites, S, /[[:space:]]+/)
             for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) if (U[i] != "" && S[j] != "") print U[i], S[j]
           }
           types = uris = suites = key = ""; enabled = "yes"
         }
         BEGIN { enabled = "yes" }
         /^[[:space:]]*#/ { next }
         /^[[:space:]]*$/ { flush(); next }
         /^[[:space:]]/ { if (key == "uris") uris = uris " " $0; else if (key == "suites") suites = suites " " $0
                          else if (key == "types") types = types " " $0; next }
         { key = tolower($0); sub(/:.*/, "", key); v = $0; sub(/^[^:]*:[[:space:]]*/, "", v)
           if (key == "types") types = v; else if (key == "uris") uris = v
           else if (key == "suites") suites = v; else if (key == "enabled") enabled = tolower(v) }
         END { flush() }' "$f"
  done
}
pick_uri() {  # pick_uri SUITE: the first http(s) URI the host uses for SUITE
  host_apt_sources | awk -v s="$1" '$2 == s && $1 ~ /^https?:\/\// { sub(/\/+$/, "", $1); print $1; exit }'
}
SECURITY=""
if [ -z "$MIRROR" ]; then
  MIRROR=$(pick_uri "$SUITE")
  SECURITY=$(pick_uri "$SUITE-security")
  if [ -z "$MIRROR" ]; then
    MIRROR=http://deb.debian.org/debian
    say "the host's apt sources name no $SUITE mirror; using $MIRROR"
  fi
fi
MIRROR=${MIRROR%/}
if [ -z "$SECURITY" ]; then
  case "$MIRROR" in */debian) SECURITY="${MIRROR}-security" ;; *) SECURITY=http://deb.debian.org/debian-security ;; esac
fi

# -------------------------------------------------------------- what to test
COMMIT=$(git -C "$REPO" rev-parse HEAD)
SUBJECT=$(git -C "$REPO" log -1 --format=%s HEAD | cut -c1-100)
CHANGES=$(git -C "$REPO" --no-optional-locks status --porcelain --untracked-files=no | wc -l)
UNTRACKED=$(git -C "$REPO" ls-files --others --exclude-standard | wc -l)
say "pstrack fresh check of commit $COMMIT"
say "  \"$SUBJECT\""
if [ $((CHANGES + UNTRACKED)) -gt 0 ]; then
  if [ "$WITH_CHANGES" -eq 1 ]; then
    say "  plus the uncommitted changes (--with-changes): $CHANGES changed tracked file(s), $UNTRACKED untracked file(s)"
  else
    say "  NOTE: $REPO has uncommitted changes ($CHANGES changed tracked file(s), $UNTRACKED untracked file(s)):"
    say "  they are NOT tested (a fresh clone of HEAD is; --with-changes adds them)"
  fi
fi
say "mode: $STOP_AFTER; root: $DIR; mirror: $MIRROR (security: $SECURITY); logs: $LOGDIR"
CHECKED="commit ${COMMIT:0:12}"
if [ "$WITH_CHANGES" -eq 1 ] && [ $((CHANGES + UNTRACKED)) -gt 0 ]; then CHECKED+=" + uncommitted changes"; fi

# ---------------------------------------------------------------- host setup
parent=$(dirname "$DIR")
mkdir -p "$parent"
need_gb=15
[ "$STOP_AFTER" = deps ] && need_gb=4
have_kb=$(df -Pk "$parent" | awk 'NR == 2 { print $4 }')
if [ "$have_kb" -lt $((need_gb * 1024 * 1024)) ]; then
  fail "only $((have_kb / 1024 / 1024)) GiB free in $parent; this mode needs about $need_gb GiB (choose --root elsewhere)"
fi
say "free space in $parent: $((have_kb / 1024 / 1024)) GiB (needs about $need_gb)"
if ! command -v debootstrap >/dev/null; then
  step 00-host "installing debootstrap on the host"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >>"$STEP_LOG" 2>&1 \
    || { apt-get update -qq >>"$STEP_LOG" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >>"$STEP_LOG" 2>&1; } \
    || { show_tail "$STEP_LOG"; fail "could not install debootstrap on the host"; }
  step_end
fi
for tool in git chroot mount umount mountpoint setsid realpath; do
  command -v "$tool" >/dev/null || fail "the host lacks $tool"
done

# ---------------------------------------------------------------- bootstrap
[ -n "$(ls -A "$DIR" 2>/dev/null)" ] || MADE_DIR=1
mkdir -p "$DIR"
touch "$MARK"
if [ -n "$(mounts_under "$DIR")" ]; then  # a previous run that was killed outright
  say "unmounting what a previous run left mounted under $DIR"
  unmount_all || fail "could not unmount what is left mounted under $DIR"
fi
if [ "$REUSE" -eq 1 ] && [ -f "$DIR/base.done" ] && [ -x "$BASE/bin/bash" ]; then
  say "reusing the $SUITE base in $BASE ($(cat "$DIR/base.done"))"
else
  [ "$REUSE" -eq 1 ] && say "no bootstrapped base in $DIR yet: making one"
  rm -f "$DIR/base.done"
  safe_rm "$ROOT" && safe_rm "$BASE" && safe_rm "$BASE.partial" || fail "could not clear $DIR"
  include=()
  # apt cannot check an https mirror's certificate without ca-certificates.
  case "$MIRROR$SECURITY" in *https://*) include=(--include=ca-certificates) ;; esac
  step 01-debootstrap "debootstrap --variant=minbase $SUITE from $MIRROR"
  debootstrap --variant=minbase "${include[@]}" "$SUITE" "$BASE.partial" "$MIRROR" >>"$STEP_LOG" 2>&1 \
    || { show_tail "$STEP_LOG"; fail "debootstrap failed"; }
  # What an installed machine has and a bare debootstrap lacks.
  {
    echo "deb $MIRROR $SUITE main"
    echo "deb $MIRROR $SUITE-updates main"
    echo "deb $SECURITY $SUITE-security main"
  } >"$BASE.partial/etc/apt/sources.list"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n' \
    >"$BASE.partial/etc/hosts"
  printf '#!/bin/sh\n# fresh_check.sh: package scripts may not start services in this chroot.\nexit 101\n' \
    >"$BASE.partial/usr/sbin/policy-rc.d"
  chmod 755 "$BASE.partial/usr/sbin/policy-rc.d"
  rm -f "$BASE.partial"/var/cache/apt/archives/*.deb
  mv "$BASE.partial" "$BASE"
  echo "$SUITE minbase from $MIRROR, $(date -u +%Y-%m-%dT%H:%MZ)" >"$DIR/base.done"
  step_end
  say "    base: $(du -sh "$BASE" | cut -f1)"
fi

# ------------------------------------------------- this run's root and clone
step 02-root "a fresh root: copying base/, cloning the repository"
safe_rm "$ROOT" || fail "could not remove the previous $ROOT"
cp -a "$BASE" "$ROOT"
cp --remove-destination /etc/resolv.conf "$ROOT/etc/resolv.conf"
mkdir -p "$ROOT/src" "$CACHE/partial"
git clone --quiet --no-hardlinks "$REPO" "$ROOT/src/pstrack" >>"$STEP_LOG" 2>&1 || { show_tail "$STEP_LOG"; fail "git clone failed"; }
git -C "$ROOT/src/pstrack" checkout --quiet --detach "$COMMIT" >>"$STEP_LOG" 2>&1 || fail "could not check out $COMMIT"
if [ "$WITH_CHANGES" -eq 1 ] && [ "$CHANGES" -gt 0 ]; then
  git -C "$REPO" --no-optional-locks diff --binary HEAD >"$LOGDIR/uncommitted.patch"
  git -C "$REPO" --no-optional-locks diff --stat HEAD >>"$STEP_LOG"
  git -C "$ROOT/src/pstrack" apply --whitespace=nowarn "$LOGDIR/uncommitted.patch" >>"$STEP_LOG" 2>&1 \
    || { show_tail "$STEP_LOG"; fail "the uncommitted changes do not apply to HEAD"; }
fi
if [ "$WITH_CHANGES" -eq 1 ] && [ "$UNTRACKED" -gt 0 ]; then
  echo "untracked files copied:" >>"$STEP_LOG"
  git -C "$REPO" ls-files --others --exclude-standard >>"$STEP_LOG"
  git -C "$REPO" ls-files -z --others --exclude-standard \
    | (cd "$REPO" && xargs -r -0 cp -a --parents -t "$ROOT/src/pstrack") || fail "could not copy the untracked files"
fi
echo "cloned $COMMIT into $ROOT/src/pstrack" >>"$STEP_LOG"

domount() {  # domount TARGET mount-args...: mounts and remembers it for the cleanup
  local target=$1; shift
  mkdir -p "$target"
  mount "$@" "$target" >>"$STEP_LOG" 2>&1 || fail "could not mount $target ($*)"
  MOUNTED+=("$target")
}
domount "$ROOT/proc" -t proc proc
domount "$ROOT/sys" -t sysfs -o ro sysfs
domount "$ROOT/dev" --bind /dev
mount --make-private "$ROOT/dev"  # or the tmpfs below would propagate to the host's /dev/shm
domount "$ROOT/dev/pts" --bind /dev/pts
mount --make-private "$ROOT/dev/pts"
domount "$ROOT/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev shm
domount "$ROOT/var/cache/apt/archives" --bind "$CACHE"
echo "mounted: ${MOUNTED[*]}" >>"$STEP_LOG"
step_end

CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
in_root() {  # in_root [VAR=value...] command...: a root login's clean environment
  chroot "$ROOT" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb \
    PATH="$CHROOT_PATH" "$@" 7>&- 8>&- 9>&-
}
SRC=/src/pstrack

# Commands tools/run.sh, tools/test.sh, tools/throwaway_postgres.sh, the
# CMake build and the tests call, and the Python modules the e2e tests import.
check_tools() {
  step "$1" "checking the commands the scripts and tests call"
  in_root bash -s >>"$STEP_LOG" 2>&1 <<'CHECK' || { show_tail "$STEP_LOG" 40; fail "missing in the chroot:$(grep -a '^MISSING' "$STEP_LOG" | cut -c8- | tr '\n' ',' | sed 's/,$//')"; }
missing=0
miss() { echo "MISSING $*"; missing=1; }
for c in bash sh env id nproc mktemp hostname su dpkg-query apt-get timeout \
         cmake make cc c++ gcc g++ ccache pkg-config protoc grpc_cpp_plugin \
         python3 psql openssl sqlite3 nginx; do
  p=$(command -v "$c") && echo "ok $c: $p" || miss "command $c"
done
for f in /usr/bin/python3 /usr/sbin/nginx /usr/lib/postgresql/15/bin/initdb /usr/lib/postgresql/15/bin/pg_ctl; do
  [ -x "$f" ] && echo "ok $f" || miss "file $f"
done
for m in grpc grpc_tools.protoc pkg_resources; do
  /usr/bin/python3 -c "import $m" 2>&1 && echo "ok python3 import $m" || miss "python3 module $m"
done
/usr/bin/python3 -c 'from grpc_tools import protoc' && echo "ok from grpc_tools import protoc" || miss "from grpc_tools import protoc"
id postgres >/dev/null 2>&1 && echo "ok user postgres" || miss "user postgres"
su postgres -s /bin/bash -c true && echo "ok su postgres" || miss "su postgres"
getent hosts localhost >/dev/null && echo "ok localhost resolves" || miss "localhost in /etc/hosts"
echo "hostname: $(hostname); id -un: $(id -un); nproc: $(nproc)"
exit $missing
CHECK
  step_end
}

# -------------------------------------------------------------- deps only
if [ "$STOP_AFTER" = deps ]; then
  step 03-deps "inside the chroot: bash tools/deps.sh"
  in_root bash -c "cd $SRC && bash tools/deps.sh" >>"$STEP_LOG" 2>&1 </dev/null \
    || { show_tail "$STEP_LOG"; fail "tools/deps.sh failed"; }
  in_root bash -c "cd $SRC && bash tools/deps.sh" >>"$STEP_LOG" 2>&1 </dev/null \
    || { show_tail "$STEP_LOG"; fail "tools/deps.sh failed when run again"; }
  step_end
  say "    installed: $(in_root dpkg-query -W -f='${db:Status-Abbrev}\n' | grep -c '^ii') packages, root $(du -sh --one-file-system "$ROOT" | cut -f1)"
  check_tools 04-tools
  CHECKED+=": deps.sh from minbase, the commands the scripts call"
  PASS_NOTE="--only-deps: no build, tools/run.sh and tools/test.sh not run"
  FINISHED=1
  exit 0
fi

# ------------------------------------------------------- the run command
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
LISTEN_ENV=() PORT=50051
if port_taken 50051; then
  for PORT in $(seq 50052 50200) ""; do [ -n "$PORT" ] && ! port_taken "$PORT" && break; done
  [ -n "$PORT" ] || fail "127.0.0.1:50051 is taken on the host and no port in 50052-50200 is free"
  say "127.0.0.1:50051 is taken on the host (the chroot shares its network): tools/run.sh gets PSTRACK_LISTEN=127.0.0.1:$PORT"
  LISTEN_ENV=(PSTRACK_LISTEN="127.0.0.1:$PORT" PSTRACK_SERVER="127.0.0.1:$PORT")
fi
# tools/run.sh also serves HTTP/JSON on 127.0.0.1:8080.
if port_taken 8080; then
  for HTTP_PORT in $(seq 8081 8200) ""; do [ -n "$HTTP_PORT" ] && ! port_taken "$HTTP_PORT" && break; done
  [ -n "$HTTP_PORT" ] || fail "127.0.0.1:8080 is taken on the host and no port in 8081-8200 is free"
  say "127.0.0.1:8080 is taken on the host: tools/run.sh gets PSTRACK_HTTP_LISTEN=127.0.0.1:$HTTP_PORT"
  LISTEN_ENV+=(PSTRACK_HTTP_LISTEN="127.0.0.1:$HTTP_PORT")
fi
progress() {  # the last line of a log that says how far a build or test run is
  local line
  line=$(tail -n 300 "$1" | tr '\r' '\n' | grep -aE '^\[ *[0-9]+%\]|^ *[0-9]+/[0-9]+ Test|^=== pstrack|^pstrack: installing' | tail -n 1) || true
  [ -n "$line" ] || line=$(tail -n 300 "$1" | grep -av '^[[:space:]]*$' | tail -n 1) || true
  echo "${line:0:160}"
}
cli() {  # the README's CLI invocation, inside the chroot
  in_root "${LISTEN_ENV[@]}" PSTRACK_API_KEY_FILE="$SRC/var/admin.key" \
    timeout 30 bash -c "cd $SRC && build/release/tools/cli/pstrack \"\$@\"" cli "$@"
}

step 03-run "inside the chroot: tools/run.sh, until 'pstrack whoami' answers (up to $RUN_TIMEOUT_MIN min)"
setsid chroot "$ROOT" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb \
  PATH="$CHROOT_PATH" "${LISTEN_ENV[@]}" bash -c "cd $SRC && exec tools/run.sh" >>"$STEP_LOG" 2>&1 </dev/null 7>&- 8>&- 9>&- &
BG_PID=$!
sleep 1
pgid=$(awk '{ print $5 }' "/proc/$BG_PID/stat" 2>/dev/null || echo "$BG_PID")
[ "$pgid" = "$BG_PID" ] || fail "internal: tools/run.sh did not get its own process group"
deadline=$(($(date +%s) + RUN_TIMEOUT_MIN * 60)) next_report=$(($(date +%s) + 60))
while :; do
  if ! alive "$BG_PID"; then
    rc=0; wait "$BG_PID" || rc=$?; BG_PID=""
    show_tail "$STEP_LOG" 40
    fail "tools/run.sh exited (status $rc) before the server answered"
  fi
  if [ -x "$ROOT$SRC/build/release/tools/cli/pstrack" ] && [ -s "$ROOT$SRC/var/admin.key" ] \
     && grep -aq "pstrack-server is starting" "$STEP_LOG"; then
    if cli whoami >"$LOGDIR/whoami.out" 2>&1; then break; fi
  fi
  now=$(date +%s)
  [ "$now" -lt "$deadline" ] || { show_tail "$STEP_LOG"; fail "the server did not answer 'pstrack whoami' within $RUN_TIMEOUT_MIN min"; }
  if [ "$now" -ge "$next_report" ]; then
    say "    $(fmt_secs $((now - STEP_T0))): $(progress "$STEP_LOG")"
    next_report=$((now + 60))
  fi
  sleep 5
done
{ echo "--- pstrack whoami"; cat "$LOGDIR/whoami.out"; } >>"$STEP_LOG"
sed 's/^/    | /' "$LOGDIR/whoami.out"
grep -q '^role: admin' "$LOGDIR/whoami.out" || fail "'pstrack whoami' did not report the admin role"
if grep -q 'without authentication' "$LOGDIR/whoami.out"; then fail "the server runs without authentication"; fi
# The README's first look at the sample data: F24 -> P24.
cli agency resolve F24 --as_of 2025-07-01 >"$LOGDIR/resolve.out" 2>&1 || { cat "$LOGDIR/resolve.out"; fail "'pstrack agency resolve F24' failed"; }
{ echo "--- pstrack agency resolve F24 --as_of 2025-07-01"; cat "$LOGDIR/resolve.out"; } >>"$STEP_LOG"
sed 's/^/    | /' "$LOGDIR/resolve.out"
grep -q 'P24' "$LOGDIR/resolve.out" || fail "'pstrack agency resolve F24 --as_of 2025-07-01' did not answer P24"
say "    the server answers; stopping it (SIGTERM to the process group)"
kill -TERM -- "-$BG_PID" 2>/dev/null || true
for i in $(seq 60); do alive "$BG_PID" || break; sleep 1; done
if alive "$BG_PID"; then fail "tools/run.sh's server did not stop within 60 s of SIGTERM"; fi
rc=0; wait "$BG_PID" || rc=$?; BG_PID=""
echo "--- tools/run.sh ended with status $rc after SIGTERM" >>"$STEP_LOG"
say "    stopped (exit status $rc)"
step_end
CHECKED+=": tools/run.sh (the server answered whoami and agency resolve)"

check_tools 04-tools
if [ "$STOP_AFTER" = run ]; then
  PASS_NOTE="--only-run: tools/test.sh not run"
  FINISHED=1
  exit 0
fi

# ------------------------------------------------------- the test command
step 05-test "inside the chroot: tools/test.sh (up to $TEST_TIMEOUT_MIN min)"
setsid chroot "$ROOT" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb \
  PATH="$CHROOT_PATH" bash -c "cd $SRC && exec tools/test.sh" >>"$STEP_LOG" 2>&1 </dev/null 7>&- 8>&- 9>&- &
BG_PID=$!
deadline=$(($(date +%s) + TEST_TIMEOUT_MIN * 60)) next_report=$(($(date +%s) + 60))
while alive "$BG_PID"; do
  now=$(date +%s)
  [ "$now" -lt "$deadline" ] || { show_tail "$STEP_LOG"; fail "tools/test.sh did not finish within $TEST_TIMEOUT_MIN min"; }
  if [ "$now" -ge "$next_report" ]; then
    say "    $(fmt_secs $((now - STEP_T0))): $(progress "$STEP_LOG")"
    next_report=$((now + 60))
  fi
  sleep 5
done
rc=0; wait "$BG_PID" || rc=$?; BG_PID=""
summary=$(grep -aE 'tests passed, [0-9]+ tests? failed out of' "$STEP_LOG" | tr '\n' ';' | sed 's/;$//; s/;/; /g') || true
if [ "$rc" -ne 0 ]; then
  show_tail "$STEP_LOG" 40
  fail "tools/test.sh exited with status $rc${summary:+ ($summary)}"
fi
say "    ${summary:-tools/test.sh succeeded}"
step_end
CHECKED+="; tools/test.sh${summary:+ ($summary)}"
FINISHED=1
exit 0
