#!/usr/bin/env bash
# Install (if missing) and run the real test services on loopback:
#   - a private PostgreSQL cluster (pg_ctl/initdb, no Debian system cluster)
#   - FerretDB v1.24.2 (MongoDB wire protocol, SQLite handler)
#
# Usage: bash scripts/services.sh [start|stop|status|env|reset]
#   start   (default) install what is missing, start what is not running,
#           write .services/env and print it (env lines on stdout,
#           progress on stderr, so `eval "$(bash scripts/services.sh)"` works)
#   stop    stop both services (data is kept)
#   status  print what is running; exit 1 if something expected is down
#   env     print .services/env
#   reset   stop and delete all service data (.services)
#
# Environment:
#   MCP_PG_PORT       PostgreSQL port (default 55432)
#   MCP_MONGO_PORT    FerretDB port   (default 27018)
#   MONGODB_URI       if set to a server other than ours, FerretDB is skipped
#   MCP_FERRETDB_BIN  use this ferretdb binary instead of $(go env GOPATH)/bin/ferretdb[-v1.24.2]
#
# See docs/guides/services.md.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
SVC="$REPO/.services"

PG_PORT="${MCP_PG_PORT:-55432}"
MONGO_PORT="${MCP_MONGO_PORT:-27018}"
PG_SUPERUSER="mcp"
PG_OS_USER="postgres"
PG_DATABASES=(mcp_shard_0 mcp_shard_1 mcp_shard_2 mcp_shard_3 mcp_control)
FERRETDB_VERSION="v1.24.2"
FERRETDB_MODULE="github.com/FerretDB/FerretDB"

FDB_DATA="$SVC/ferretdb"
FDB_STATE="$SVC/ferretdb-state"
FDB_LOG="$SVC/ferretdb.log"
FDB_PID="$SVC/ferretdb.pid"
ENV_FILE="$SVC/env"

OUR_MONGODB_URI="mongodb://127.0.0.1:${MONGO_PORT}/"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

[[ "$PG_PORT" =~ ^[0-9]+$ ]] || die "MCP_PG_PORT must be a number, got '$PG_PORT'"
[[ "$MONGO_PORT" =~ ^[0-9]+$ ]] || die "MCP_MONGO_PORT must be a number, got '$MONGO_PORT'"

# MONGODB_URI counts as "user supplied" only when it is not our own URI
# (e.g. after `source .services/env` it points at our FerretDB).
mongo_external() {
  local u="${MONGODB_URI:-}"
  [[ -n "$u" ]] || return 1
  case "${u%/}" in
    "mongodb://127.0.0.1:${MONGO_PORT}" | "mongodb://localhost:${MONGO_PORT}") return 1 ;;
  esac
  return 0
}

# alive PID NAME: PID exists, is not a zombie, and its command line mentions NAME
alive() {
  local stat
  [[ "$1" =~ ^[0-9]+$ ]] || return 1
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat%% *}" != [ZX] ]] || return 1
  [[ -z "${2:-}" ]] || tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"
}

# wait up to $2 tenths of a second for PID $1 to be gone (or a zombie)
wait_gone() {
  local i
  for ((i = 0; i < $2; i++)); do
    alive "$1" || return 0
    sleep 0.1
  done
  return 1
}

# Returns 0 if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---------------------------------------------------------------- locking ---

lock() {
  mkdir -p "$SVC"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$SVC/.lock"
    if ! flock -n 9; then
      log "waiting for another services.sh run (lock $SVC/.lock)"
      flock -w 600 9 || die "timed out waiting for another services.sh (lock $SVC/.lock)"
    fi
  fi
}

# ------------------------------------------------------------- PostgreSQL ---

PG_BIN=""

find_pg_bin() {
  local d
  if [[ -n "${MCP_PG_BIN:-}" && -x "${MCP_PG_BIN}/pg_ctl" ]]; then PG_BIN="$MCP_PG_BIN"; return 0; fi
  # newest Debian-style install first
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -V -r); do
    if [[ -x "$d/pg_ctl" && -x "$d/initdb" && -x "$d/postgres" ]]; then PG_BIN="$d"; return 0; fi
  done
  if command -v pg_ctl >/dev/null 2>&1; then
    d="$(dirname -- "$(readlink -f -- "$(command -v pg_ctl)")")"
    if [[ -x "$d/initdb" && -x "$d/postgres" ]]; then PG_BIN="$d"; return 0; fi
  fi
  return 1
}

install_pg() {
  find_pg_bin && return 0
  log "PostgreSQL binaries not found; installing via apt-get (postgresql)"
  local sudo=()
  if ! is_root; then
    command -v sudo >/dev/null 2>&1 || die "PostgreSQL is not installed and I am not root (no sudo): apt-get install postgresql"
    sudo=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq </dev/null >&2 || die "apt-get update failed"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    postgresql </dev/null >&2 || die "apt-get install postgresql failed"
  find_pg_bin || die "postgresql installed but pg_ctl/initdb not found under /usr/lib/postgresql/*/bin"
}

# Where the cluster lives. Normally $SVC; if the postgres OS user cannot reach
# the repository (e.g. it lives under /root, mode 700), fall back to /var/tmp.
PG_ROOT="" PG_DATA="" PG_LOG="" PG_SOCK=""

pg_paths() {
  mkdir -p "$SVC"
  PG_ROOT="$SVC"
  if is_root && ! runuser -u "$PG_OS_USER" -- test -x "$SVC" 2>/dev/null; then
    PG_ROOT="/var/tmp/mcp-migrate-$(printf '%s' "$REPO" | md5sum | cut -c1-12)"
  fi
  PG_DATA="$PG_ROOT/pg"
  PG_LOG="$PG_ROOT/pg.log"
  PG_SOCK="$PG_ROOT/pg-sock"
  # unix socket paths are limited to ~107 bytes
  if (( ${#PG_SOCK} + 20 > 100 )); then
    PG_SOCK="/tmp/mcp-pg-$(printf '%s' "$REPO" | md5sum | cut -c1-12)"
  fi
}

ensure_pg_os_user() {
  is_root || return 0
  if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    log "creating OS user '$PG_OS_USER'"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$PG_OS_USER" || die "useradd $PG_OS_USER failed"
  fi
}

# Run a command as the OS user owning the cluster (postgres refuses root).
as_pg() {
  if is_root; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    "$@"
  fi
}

pg_own() {
  if is_root; then chown -R "$PG_OS_USER:" "$@"; fi
}

psql_admin() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres "$@"
}

pg_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres >/dev/null 2>&1
}

# pid of our postmaster if it is alive, else empty (removes stale pid files)
pg_running_pid() {
  local pidfile="$PG_DATA/postmaster.pid" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  if alive "$pid" postgres; then
    echo "$pid"
    return 0
  fi
  log "removing stale PostgreSQL pid file (pid ${pid:-?} is not running)"
  rm -f "$pidfile"
}

# After a crash: let orphaned backends exit and drop a stale socket lock file
# (postgres refuses to start while the pid in it still exists, e.g. as a zombie).
pg_clear_stale() {
  local lockf="$PG_SOCK/.s.PGSQL.$PG_PORT.lock" pid
  [[ -f "$lockf" ]] || return 0
  pid="$(head -n1 "$lockf" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && ! wait_gone "$pid" 50; then
    die "stale PostgreSQL process $pid still owns $lockf"
  fi
  rm -f "$lockf" "$PG_SOCK/.s.PGSQL.$PG_PORT"
}

pg_running_port() { sed -n '4p' "$PG_DATA/postmaster.pid" 2>/dev/null || true; }

pg_initdb() {
  [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
  if [[ "$PG_ROOT" != "$SVC" ]]; then
    log "note: OS user '$PG_OS_USER' cannot reach $SVC; the cluster lives in $PG_ROOT"
  fi
  log "initdb private cluster in $PG_DATA"
  rm -rf "$PG_DATA"
  mkdir -p "$PG_DATA"
  chmod 700 "$PG_DATA"
  pg_own "$PG_DATA"
  local out
  if ! out="$(as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" -E UTF8 --locale=C \
      --auth-local=trust --auth-host=trust --no-instructions 2>&1)"; then
    printf '%s\n' "$out" >&2
    rm -rf "$PG_DATA"
    die "initdb failed"
  fi
  # settings that must not change on restart; port/listen/socket live in mcp.conf
  cat >>"$PG_DATA/postgresql.conf" <<'EOF'

# ---- added by scripts/services.sh (test-only tuning; NOT crash safe) ----
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 256MB
log_min_messages = warning
log_connections = off
include_if_exists = 'mcp.conf'
EOF
  pg_own "$PG_DATA"
}

# regenerated on every start so MCP_PG_PORT / repo moves take effect
pg_write_runtime_conf() {
  local sock="${PG_SOCK//\'/\'\'}"
  cat >"$PG_DATA/mcp.conf" <<EOF
# generated by scripts/services.sh on each start
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sock'
EOF
  pg_own "$PG_DATA/mcp.conf"
}

pg_log_tail() {
  if [[ -f "$PG_LOG" ]]; then
    log "---- last lines of $PG_LOG ----"
    tail -n 40 "$PG_LOG" >&2 || true
  fi
}

pg_wait_ready() {
  local pid="$1" i
  for ((i = 0; i < 300; i++)); do
    pg_ready && return 0
    if [[ -n "$pid" ]] && ! alive "$pid"; then
      pg_log_tail
      die "PostgreSQL exited during startup"
    fi
    sleep 0.1
  done
  pg_log_tail
  die "PostgreSQL did not become ready on 127.0.0.1:$PG_PORT within 30s"
}

pg_stop() {
  local pid
  pid="$(pg_running_pid)"
  [[ -n "$pid" ]] || return 0
  log "stopping PostgreSQL (pid $pid)"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1; then
    log "pg_ctl stop failed; sending SIGQUIT"
    kill -QUIT "$pid" 2>/dev/null || true
  fi
  wait_gone "$pid" 100 || log "WARNING: PostgreSQL pid $pid still alive after stop"
}

pg_ensure_databases() {
  local existing missing=() db
  existing="$(psql_admin -At -c 'SELECT datname FROM pg_database')" \
    || die "cannot query PostgreSQL on 127.0.0.1:$PG_PORT"
  for db in "${PG_DATABASES[@]}"; do
    grep -qx -- "$db" <<<"$existing" || missing+=("$db")
  done
  for db in "${missing[@]}"; do
    log "creating database $db"
    psql_admin -c "CREATE DATABASE \"$db\"" >/dev/null
  done
}

pg_start() {
  install_pg
  ensure_pg_os_user
  pg_paths
  mkdir -p "$PG_ROOT"
  local pid
  pid="$(pg_running_pid)"
  if [[ -n "$pid" ]]; then
    if [[ "$(pg_running_port)" != "$PG_PORT" ]]; then
      log "PostgreSQL runs on port $(pg_running_port), wanted $PG_PORT: restarting"
      pg_stop
      pid=""
    elif pg_ready; then
      log "PostgreSQL already running (pid $pid, 127.0.0.1:$PG_PORT)"
      pg_ensure_databases
      return 0
    else
      log "PostgreSQL pid $pid not ready yet; waiting"
      pg_wait_ready "$pid"
      pg_ensure_databases
      return 0
    fi
  fi

  if port_open "$PG_PORT"; then
    die "port 127.0.0.1:$PG_PORT is used by another process (not our cluster in $PG_DATA); set MCP_PG_PORT"
  fi

  pg_initdb
  pg_write_runtime_conf
  mkdir -p "$PG_SOCK"
  chmod 755 "$PG_SOCK"
  touch "$PG_LOG"
  pg_own "$PG_SOCK" "$PG_LOG"

  log "starting PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
  pg_clear_stale
  # -w: pg_ctl waits (bounded) and notices if the postmaster dies.
  # 9>&-: the server must not inherit the lock fd (it would hold the lock forever).
  # One retry: right after a crash, orphaned backends may still hold shared memory.
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 30 start >/dev/null 2>&1 9>&-; then
    log "PostgreSQL failed to start; retrying once in 2s"
    sleep 2
    pg_running_pid >/dev/null
    pg_clear_stale
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 30 start >/dev/null 2>&1 9>&-; then
      pg_log_tail
      die "pg_ctl start failed (log: $PG_LOG)"
    fi
  fi
  pid="$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
  pg_wait_ready "$pid"
  log "PostgreSQL ready (pid $(head -n1 "$PG_DATA/postmaster.pid"))"
  pg_ensure_databases
}

pg_status() {
  if ! find_pg_bin; then echo "postgres: not installed"; return 1; fi
  pg_paths
  local pid
  pid="$(pg_running_pid 2>/dev/null)"
  if [[ -n "$pid" ]] && pg_ready; then
    echo "postgres: running  pid=$pid  127.0.0.1:$(pg_running_port)  data=$PG_DATA  log=$PG_LOG"
    return 0
  elif [[ -n "$pid" ]]; then
    echo "postgres: pid=$pid exists but is not accepting connections on 127.0.0.1:$PG_PORT"
    return 1
  fi
  echo "postgres: stopped  (data=$PG_DATA)"
  return 1
}

# --------------------------------------------------------------- FerretDB ---

FDB_BIN=""

go_bin() {
  if command -v go >/dev/null 2>&1; then command -v go; return 0; fi
  if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; return 0; fi
  return 1
}

fdb_ok() { [[ -x "$1" ]] && "$1" --version 2>/dev/null | grep -qx "version: $FERRETDB_VERSION"; }

# Builds FerretDB from the module source. A plain `go install ...@v1.24.2`
# produces a binary that panics at startup ("Invalid build/version/version.txt")
# because version.txt is generated at release time and not part of the module,
# so we build from a writable copy of the module with version.txt added.
fdb_build() {
  local go gopath dir tmp
  go="$(go_bin)" || die "Go is required to build FerretDB (install Go >= 1.22, e.g. to /usr/local/go)"
  gopath="$("$go" env GOPATH)"
  log "building FerretDB $FERRETDB_VERSION (one-time, ~1-2 min)"
  dir="$("$go" mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || die "go mod download $FERRETDB_MODULE@$FERRETDB_VERSION failed"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-build.XXXXXX")"
  cp -R "$dir/." "$tmp/"
  chmod -R u+w "$tmp"
  printf '%s\n' "$FERRETDB_VERSION" >"$tmp/build/version/version.txt"
  mkdir -p "$gopath/bin"
  local blog="$SVC/ferretdb-build.log"
  if ! (cd "$tmp" && GOFLAGS=-buildvcs=false "$go" build -trimpath -o "$gopath/bin/ferretdb.tmp" ./cmd/ferretdb) >"$blog" 2>&1; then
    rm -rf "$tmp"
    tail -n 40 "$blog" >&2 || true
    die "building FerretDB failed (log: $blog)"
  fi
  rm -rf "$tmp"
  # Versioned name: a later plain `go install` overwrites bin/ferretdb with the
  # broken build, but leaves this one alone.
  FDB_BIN="$gopath/bin/ferretdb-$FERRETDB_VERSION"
  mv -f "$gopath/bin/ferretdb.tmp" "$FDB_BIN"
  fdb_ok "$FDB_BIN" || die "built $FDB_BIN but it does not report $FERRETDB_VERSION"
  # also (re)place bin/ferretdb for people who run it by hand, if missing or broken
  if ! fdb_ok "$gopath/bin/ferretdb"; then
    cp -f "$FDB_BIN" "$gopath/bin/ferretdb.tmp" && mv -f "$gopath/bin/ferretdb.tmp" "$gopath/bin/ferretdb"
  fi
  log "built $FDB_BIN"
}

find_fdb() {
  local c go gopath="" seen=" "
  if go="$(go_bin)"; then gopath="$("$go" env GOPATH 2>/dev/null || true)"; fi
  for c in "${MCP_FERRETDB_BIN:-}" \
           "${gopath:+$gopath/bin/ferretdb-$FERRETDB_VERSION}" \
           "${gopath:+$gopath/bin/ferretdb}" \
           "$HOME/go/bin/ferretdb-$FERRETDB_VERSION" \
           "$HOME/go/bin/ferretdb" \
           "$(command -v ferretdb 2>/dev/null || true)"; do
    [[ -n "$c" && -x "$c" ]] || continue
    c="$(readlink -f -- "$c")"
    [[ "$seen" == *" $c "* ]] && continue
    seen+="$c "
    if fdb_ok "$c"; then FDB_BIN="$c"; return 0; fi
    log "ignoring $c (not a working FerretDB $FERRETDB_VERSION build)"
  done
  return 1
}

fdb_pid() {
  local pid
  [[ -f "$FDB_PID" ]] || return 0
  pid="$(cat "$FDB_PID" 2>/dev/null || true)"
  if alive "$pid" ferretdb; then
    echo "$pid"
    return 0
  fi
  log "removing stale FerretDB pid file (pid ${pid:-?} is not running)"
  rm -f "$FDB_PID"
}

# Real MongoDB-protocol ping (OP_MSG {ping: 1}) using only Node built-ins.
mongo_ping() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
const net = require("net");
const port = Number(process.argv[1]);
function bson() {
  const parts = [];
  const el = (type, name, val) => parts.push(Buffer.from([type]), Buffer.from(name + "\0"), val);
  const i32 = Buffer.alloc(4); i32.writeInt32LE(1);
  el(0x10, "ping", i32);
  const s = Buffer.from("admin\0"); const l = Buffer.alloc(4); l.writeInt32LE(s.length);
  el(0x02, "$db", Buffer.concat([l, s]));
  const body = Buffer.concat(parts);
  const doc = Buffer.alloc(4 + body.length + 1);
  doc.writeInt32LE(doc.length); body.copy(doc, 4); return doc;
}
const doc = bson();
const hdr = Buffer.alloc(16 + 4 + 1);
hdr.writeInt32LE(hdr.length + doc.length, 0); hdr.writeInt32LE(1, 4); hdr.writeInt32LE(0, 8);
hdr.writeInt32LE(2013, 12); hdr.writeUInt32LE(0, 16); hdr.writeUInt8(0, 20);
const sock = net.connect({ host: "127.0.0.1", port }, () => sock.write(Buffer.concat([hdr, doc])));
let buf = Buffer.alloc(0);
const fail = (m) => { console.error(m); process.exit(1); };
sock.setTimeout(3000, () => fail("timeout"));
sock.on("error", (e) => fail(e.message));
sock.on("data", (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length < 4 || buf.length < buf.readInt32LE(0)) return;
  // OP_MSG reply: header(16) flags(4) kind(1) doc; look for ok: 1.0
  const reply = buf.subarray(21);
  const i = reply.indexOf(Buffer.from("\x01ok\0", "latin1"));
  const ok = i >= 0 && reply.readDoubleLE(i + 4) === 1;
  sock.end();
  process.exit(ok ? 0 : 1);
});
' "$1" 2>/dev/null
}

fdb_ready() { port_open "$MONGO_PORT" && mongo_ping "$MONGO_PORT"; }

fdb_log_tail() {
  if [[ -f "$FDB_LOG" ]]; then
    log "---- last lines of $FDB_LOG ----"
    tail -n 40 "$FDB_LOG" >&2 || true
  fi
}

fdb_start() {
  if mongo_external; then
    log "MONGODB_URI is set by the caller; not starting FerretDB"
    return 0
  fi
  command -v node >/dev/null 2>&1 || die "node is required (used for the MongoDB wire ping)"
  local pid
  pid="$(fdb_pid)"
  if [[ -n "$pid" ]]; then
    if fdb_ready; then
      log "FerretDB already running (pid $pid, 127.0.0.1:$MONGO_PORT)"
      return 0
    fi
    if ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--listen-addr=127.0.0.1:$MONGO_PORT "; then
      log "FerretDB pid $pid listens elsewhere (wanted port $MONGO_PORT): restarting"
      fdb_stop
      pid=""
    fi
  fi
  if [[ -z "$pid" ]] && port_open "$MONGO_PORT"; then
    if mongo_ping "$MONGO_PORT"; then
      log "WARNING: a MongoDB-compatible server not started by this script already answers on 127.0.0.1:$MONGO_PORT; using it"
      return 0
    fi
    die "port 127.0.0.1:$MONGO_PORT is used by another process; set MCP_MONGO_PORT"
  fi

  if [[ -z "$pid" ]]; then
    find_fdb || fdb_build
    mkdir -p "$FDB_DATA" "$FDB_STATE"
    log "starting FerretDB $FERRETDB_VERSION (sqlite) on 127.0.0.1:$MONGO_PORT"
    : >"$FDB_LOG"
    # setsid: own session, survives the calling shell/job; the inner shell
    # records its own pid and execs ferretdb, so the pid file is exact.
    # shellcheck disable=SC2016 # expanded by the inner shell
    (cd "$SVC" && setsid -f bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$FDB_PID" \
      "$FDB_BIN" \
        --handler=sqlite \
        "--sqlite-url=file:$FDB_DATA/" \
        "--listen-addr=127.0.0.1:$MONGO_PORT" \
        --telemetry=disable \
        "--state-dir=$FDB_STATE" \
        --debug-addr=- \
        --log-level=info \
        --log-format=console \
      </dev/null >>"$FDB_LOG" 2>&1 9>&-)
    local i
    for ((i = 0; i < 50; i++)); do
      pid="$(cat "$FDB_PID" 2>/dev/null || true)"
      [[ "$pid" =~ ^[0-9]+$ ]] && break
      pid=""
      sleep 0.05
    done
    [[ -n "$pid" ]] || die "FerretDB did not write its pid file"
  fi

  local i
  for ((i = 0; i < 300; i++)); do
    if port_open "$MONGO_PORT" && mongo_ping "$MONGO_PORT"; then
      log "FerretDB ready (pid $pid)"
      return 0
    fi
    if ! alive "$pid"; then
      rm -f "$FDB_PID"
      fdb_log_tail
      die "FerretDB exited during startup"
    fi
    sleep 0.1
  done
  fdb_log_tail
  die "FerretDB did not answer a ping on 127.0.0.1:$MONGO_PORT within 30s"
}

fdb_stop() {
  local pid i
  pid="$(fdb_pid)"
  [[ -n "$pid" ]] || return 0
  log "stopping FerretDB (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" 100; then
    log "FerretDB did not stop in 10s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 50 || true
  fi
  rm -f "$FDB_PID"
}

fdb_status() {
  if mongo_external; then
    echo "mongodb: external (MONGODB_URI set by caller; FerretDB not managed)"
    return 0
  fi
  local pid
  pid="$(fdb_pid 2>/dev/null)"
  if [[ -n "$pid" ]] && fdb_ready; then
    echo "ferretdb: running  pid=$pid  127.0.0.1:$MONGO_PORT  data=$FDB_DATA  log=$FDB_LOG"
    return 0
  elif [[ -n "$pid" ]]; then
    echo "ferretdb: pid=$pid exists but does not answer ping on 127.0.0.1:$MONGO_PORT"
    return 1
  elif port_open "$MONGO_PORT"; then
    echo "ferretdb: not ours, but something listens on 127.0.0.1:$MONGO_PORT"
    return 1
  fi
  echo "ferretdb: stopped"
  return 1
}

# ------------------------------------------------------------------- env ---

sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

write_env() {
  local base="postgres://${PG_SUPERUSER}@127.0.0.1:${PG_PORT}"
  local shards="" db mongo tmp
  for db in "${PG_DATABASES[@]}"; do
    [[ "$db" == mcp_shard_* ]] || continue
    shards+="${shards:+,}$base/$db"
  done
  if mongo_external; then mongo="$MONGODB_URI"; else mongo="$OUR_MONGODB_URI"; fi
  tmp="$ENV_FILE.tmp.$$"
  {
    echo "# generated by scripts/services.sh; source it: . .services/env"
    echo "export MCP_MIGRATE_PG_URL=$(sq "$base/postgres")"
    echo "export MCP_MIGRATE_PG_SHARDS=$(sq "$shards")"
    if mongo_external; then echo "# MONGODB_URI was supplied by the caller; FerretDB not started"; fi
    echo "export MONGODB_URI=$(sq "$mongo")"
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

print_env() { grep -v '^#' "$ENV_FILE"; }

# ------------------------------------------------------------------ main ---

cmd="${1:-start}"
case "$cmd" in
  start)
    lock
    pg_start
    fdb_start
    write_env
    print_env
    ;;
  stop)
    lock
    find_pg_bin || true
    if [[ -n "$PG_BIN" ]]; then pg_paths; pg_stop; fi
    fdb_stop
    log "stopped"
    ;;
  status)
    rc=0
    pg_status || rc=1
    fdb_status || rc=1
    exit "$rc"
    ;;
  env)
    [[ -f "$ENV_FILE" ]] || die "$ENV_FILE not found; run: bash scripts/services.sh start"
    print_env
    ;;
  reset)
    lock
    find_pg_bin || true
    if [[ -n "$PG_BIN" ]]; then pg_paths; pg_stop; fi
    fdb_stop
    if [[ -n "$PG_ROOT" && "$PG_ROOT" != "$SVC" ]]; then rm -rf "$PG_ROOT"; fi
    [[ -n "$PG_SOCK" && "$PG_SOCK" == /tmp/mcp-pg-* ]] && rm -rf "$PG_SOCK"
    # keep the lock file we hold; remove everything else
    find "$SVC" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
    log "reset: all service data removed"
    ;;
  -h | --help | help)
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    ;;
  *)
    die "unknown command '$cmd' (use start|stop|status|env|reset)"
    ;;
esac
