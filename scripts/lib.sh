# Shared helpers for scripts/run, scripts/test, scripts/cluster and scripts/bench.
# Sourced, not executed. Everything here is idempotent: a tool or package already
# present is left alone, so a second run is fast.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Where cargo puts binaries (CARGO_TARGET_DIR, if set, wins over the workspace's target/).
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

_apt_updated=0
# apt_install PKG... : installs the Debian/Ubuntu packages that are not installed yet.
apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get: install them by hand"
    log "installing ${missing[*]}"
    if [ "$_apt_updated" -eq 0 ]; then as_root apt-get update -qq; _apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_rust() {
    command -v cargo >/dev/null && return 0
    die "cargo not found: install Rust with rustup (https://rustup.rs) and run again"
}

# PostgreSQL server binaries (Debian puts them outside PATH).
pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/initdb" ] || return 1
    echo "$d"
}

ensure_postgres() {
    pg_bindir >/dev/null || apt_install postgresql postgresql-client
    pg_bindir >/dev/null || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    # The packaged cluster is not used; make sure installing it did not leave one running
    # that would compete for memory (harmless if there is none).
}

ensure_redis() { command -v redis-server >/dev/null || apt_install redis-server; }
ensure_nginx() { command -v nginx >/dev/null || apt_install nginx; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the unprivileged owner of the PostgreSQL cluster: initdb refuses root.
_pg_user_cmd() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres DATADIR PORT [fast]: creates the cluster on first use, starts it on
# 127.0.0.1:PORT with trust auth for local connections. "fast" turns durability off
# (throwaway test clusters only).
start_postgres() {
    local dir="$1" port="$2" mode="${3:-}" bin
    bin=$(pg_bindir)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; chmod 700 "$dir"; fi
    if [ ! -f "$dir/PG_VERSION" ]; then
        _pg_user_cmd "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
            || die "initdb failed in $dir"
    fi
    local opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300"
    if [ "$mode" = fast ]; then
        # Throwaway test clusters: nothing to keep, so nothing is flushed.
        opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB"
    else
        # Durable (every commit flushed), with group commit: when several commits are in
        # flight, one WAL flush serves them all instead of one flush each.
        opts="$opts -c shared_buffers=256MB -c commit_delay=200 -c commit_siblings=3"
    fi
    _pg_user_cmd "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null \
        || { tail -n 20 "$dir/server.log" >&2; die "PostgreSQL did not start"; }
}

stop_postgres() {
    local dir="$1" bin
    bin=$(pg_bindir) || return 0
    [ -f "$dir/postmaster.pid" ] && _pg_user_cmd "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# start_redis PORT DIR: an in-memory Redis on loopback, no persistence.
start_redis() {
    local port="$1" dir="$2"
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >/dev/null
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    die "Redis did not start on port $port"
}

stop_redis() {
    local dir="$1"
    [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
}

# render_nginx_conf OUT PREFIX HTTP_PORT TLS_PORT CERT_DIR STATIC_DIR UPSTREAM... :
# the repository's nginx.conf (the docker-compose one) rewritten for loopback: the
# lines marked "templated" get these ports, paths and upstreams. TLS_PORT "" drops TLS.
render_nginx_conf() {
    local out="$1" prefix="$2" http="$3" tls="$4" certs="$5" static="$6"
    shift 6
    mkdir -p "$prefix/tmp"
    chmod 777 "$prefix/tmp"
    python3 - "$ROOT/nginx.conf" "$out" "$prefix" "$http" "$tls" "$certs" "$static" "$@" <<'PY'
import sys
src, out, prefix, http, tls, certs, static, *ups = sys.argv[1:]
lines, done_up = [], False
for line in open(src):
    t = line.strip()
    if "# templated" in line:
        if t.startswith("server "):
            if not done_up:
                lines += [f"        server {u} max_fails=1 fail_timeout=5s;\n" for u in ups]
                done_up = True
            continue
        if t.startswith("listen 80"):
            line = f"        listen 127.0.0.1:{http};\n"
        elif t.startswith("listen 443"):
            if not tls:
                continue
            line = f"        listen 127.0.0.1:{tls} ssl;\n"
        elif t.startswith("ssl_certificate_key"):
            if not tls:
                continue
            line = f"        ssl_certificate_key {certs}/tls.key;\n"
        elif t.startswith("ssl_certificate"):
            if not tls:
                continue
            line = f"        ssl_certificate {certs}/tls.crt;\n"
        elif t.startswith("root "):
            line = f"        root {static};\n"
    if t.startswith("ssl_protocols") and not tls:
        continue
    lines.append(line)
    if t == "http {":
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            lines.append(f"    {kind}_temp_path {prefix}/tmp/{kind};\n")
open(out, "w").write("".join(lines))
PY
}

# start_nginx CONF PREFIX: runs nginx in the background with its pid and logs in PREFIX.
start_nginx() {
    local conf="$1" prefix="$2"
    nginx -t -q -c "$conf" -p "$prefix" -g "pid $prefix/nginx.pid; error_log $prefix/error.log;" \
        || die "nginx rejected $conf"
    nginx -c "$conf" -p "$prefix" -g "pid $prefix/nginx.pid; error_log $prefix/error.log;"
}

stop_nginx() {
    local prefix="$1"
    [ -f "$prefix/nginx.pid" ] && kill "$(cat "$prefix/nginx.pid")" 2>/dev/null || true
}

# self_signed_cert DIR: a localhost certificate for the loopback TLS listener.
self_signed_cert() {
    local dir="$1"
    mkdir -p "$dir"
    [ -s "$dir/tls.crt" ] && return 0
    command -v openssl >/dev/null || apt_install openssl
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/tls.key" -out "$dir/tls.crt" >/dev/null 2>&1 || die "openssl could not make a certificate"
}
