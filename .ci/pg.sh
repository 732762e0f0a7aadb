# shellcheck shell=bash
# shellcheck disable=SC2034  # PG_URL and the like are read by .ci/run, which sources this
# PostgreSQL for CI, sourced by .ci/run (bash, set -euo pipefail).
#
#   pg_ensure     sets PG_URL to a database `cuntao` that accepts user postgres
#                 without a password: the server on 127.0.0.1:$CI_PG_PORT (5432)
#                 if one answers and lets us in, else a private throw-away
#                 cluster started here on $CI_PG_PRIVATE_PORT (5433, or the next
#                 free port).
#   pg_cleanup    stops the private cluster, if one was started, and removes it.
#                 Safe to call more than once; call it from an EXIT trap.
#
# pg_ensure sets variables rather than printing the URL, because the caller's
# trap must know the private cluster's data dir to stop it: a $(pg_ensure)
# subshell would lose that.

CI_PG_HOST=127.0.0.1
CI_PG_PORT=${CI_PG_PORT:-5432}
CI_PG_PRIVATE_PORT=${CI_PG_PRIVATE_PORT:-5433}
CI_PG_DB=${CI_PG_DB:-cuntao}

PG_URL=
PG_PRIVATE_DIR=   # set while a private cluster of ours exists
PG_PRIVATE_USER=  # the OS user that owns it ('' = ourselves)
PG_CTL=

pg_log() { echo "[pg] $*" >&2; }

# pg_bin NAME: the path of a PostgreSQL program, from PATH or else from the
# newest /usr/lib/postgresql/*/bin (Debian keeps initdb and pg_ctl there only).
pg_bin() {
    local name=$1 dir
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
        return 0
    fi
    while IFS= read -r dir; do
        if [[ -x $dir/$name ]]; then
            echo "$dir/$name"
            return 0
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
    return 1
}

# as_root CMD...: run as root (sudo when we are not root and it exists).
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        pg_log "need root to run: $*"
        return 1
    fi
}

# apt_install PKG...: install Debian packages; `apt-get update` only if the
# first attempt fails (a stale or empty package list).
apt_install() {
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@")
    as_root "${apt[@]}" </dev/null && return 0
    echo "apt-get install $* failed; running apt-get update and trying again" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
    as_root "${apt[@]}" </dev/null
}

pg_install_server() {
    pg_log "no initdb/pg_ctl found: installing Debian's postgresql"
    apt_install postgresql
}

# pg_can_connect PORT [DB]: true if user postgres gets in without a password.
pg_can_connect() {
    local psql
    psql=$(pg_bin psql) || return 1
    PGCONNECT_TIMEOUT=5 "$psql" -X -q -h "$CI_PG_HOST" -p "$1" -U postgres -d "${2:-postgres}" \
        -Atc 'SELECT 1' </dev/null >/dev/null 2>&1
}

# pg_port_busy PORT: true if anything at all listens on 127.0.0.1:PORT.
pg_port_busy() {
    (exec 3<>"/dev/tcp/$CI_PG_HOST/$1") 2>/dev/null
}

# pg_as_owner CMD...: run CMD as the private cluster's owner, from /, so that a
# checkout under /root (which that user cannot read) does not get in the way.
pg_as_owner() {
    if [[ -z $PG_PRIVATE_USER ]]; then
        (cd / && "$@")
    elif command -v runuser >/dev/null 2>&1; then
        (cd / && runuser -u "$PG_PRIVATE_USER" -- "$@")
    else
        (cd / && su "$PG_PRIVATE_USER" -s /bin/bash -c "$(printf '%q ' "$@")")
    fi
}

pg_start_private() {
    local initdb port tries

    if ! initdb=$(pg_bin initdb) || ! PG_CTL=$(pg_bin pg_ctl); then
        pg_install_server
        if ! initdb=$(pg_bin initdb) || ! PG_CTL=$(pg_bin pg_ctl); then
            pg_log "initdb/pg_ctl still not found after installing postgresql"
            return 1
        fi
    fi
    pg_bin psql >/dev/null || apt_install postgresql-client

    # initdb refuses to run as root: the cluster belongs to an unprivileged
    # user, the system's postgres user (created, Debian-style, if missing).
    PG_PRIVATE_USER=
    if [[ $(id -u) -eq 0 ]]; then
        if ! id postgres >/dev/null 2>&1; then
            pg_log "creating system user postgres"
            useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
                --shell /bin/bash --comment "PostgreSQL administrator" postgres
        fi
        PG_PRIVATE_USER=postgres
    fi

    # /tmp and not $TMPDIR: the postgres user must be able to reach it.
    PG_PRIVATE_DIR=$(mktemp -d /tmp/cuntao-ci-pg.XXXXXX)
    mkdir "$PG_PRIVATE_DIR/sock"
    if [[ -n $PG_PRIVATE_USER ]]; then
        chown -R "$PG_PRIVATE_USER:" "$PG_PRIVATE_DIR"
    fi

    port=$CI_PG_PRIVATE_PORT
    for ((tries = 0; tries < 20; tries++)); do
        pg_port_busy "$port" || break
        pg_log "port $port is taken, trying $((port + 1))"
        port=$((port + 1))
    done

    pg_log "initdb in $PG_PRIVATE_DIR/data as ${PG_PRIVATE_USER:-$(id -un)} ($initdb)"
    # C.UTF-8, as Debian's own clusters; plain C where that locale is missing.
    if ! pg_as_owner "$initdb" -D "$PG_PRIVATE_DIR/data" --auth=trust -U postgres \
        -E UTF8 --locale=C.UTF-8 --no-sync >"$PG_PRIVATE_DIR/initdb.log" 2>&1; then
        pg_log "initdb with locale C.UTF-8 failed, retrying with locale C"
        pg_as_owner rm -rf "$PG_PRIVATE_DIR/data"
        pg_as_owner "$initdb" -D "$PG_PRIVATE_DIR/data" --auth=trust -U postgres \
            -E UTF8 --locale=C --no-sync >"$PG_PRIVATE_DIR/initdb.log" 2>&1 || {
            cat "$PG_PRIVATE_DIR/initdb.log" >&2
            pg_log "initdb failed"
            return 1
        }
    fi

    # Durability is of no use to a throw-away cluster; speed is.
    pg_log "starting private cluster on $CI_PG_HOST:$port"
    pg_as_owner "$PG_CTL" -D "$PG_PRIVATE_DIR/data" -l "$PG_PRIVATE_DIR/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=$CI_PG_HOST -k $PG_PRIVATE_DIR/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || {
        cat "$PG_PRIVATE_DIR/server.log" >&2 || true
        pg_log "pg_ctl start failed"
        return 1
    }

    for ((tries = 0; tries < 30; tries++)); do
        pg_can_connect "$port" && break
        sleep 1
    done
    pg_can_connect "$port" || {
        cat "$PG_PRIVATE_DIR/server.log" >&2 || true
        pg_log "private cluster started but does not accept connections"
        return 1
    }
    CI_PG_PORT=$port
}

pg_cleanup() {
    [[ -n $PG_PRIVATE_DIR ]] || return 0
    if [[ -f $PG_PRIVATE_DIR/data/postmaster.pid ]]; then
        pg_log "stopping private cluster"
        pg_as_owner "$PG_CTL" -D "$PG_PRIVATE_DIR/data" -m fast -w -t 30 stop >/dev/null ||
            pg_as_owner "$PG_CTL" -D "$PG_PRIVATE_DIR/data" -m immediate stop >/dev/null || true
    fi
    rm -rf "$PG_PRIVATE_DIR"
    PG_PRIVATE_DIR=
}

pg_ensure() {
    local isready psql
    isready=$(pg_bin pg_isready) || {
        pg_install_server
        isready=$(pg_bin pg_isready)
    }

    if "$isready" -q -h "$CI_PG_HOST" -p "$CI_PG_PORT" -t 5 </dev/null; then
        if pg_can_connect "$CI_PG_PORT"; then
            pg_log "using the PostgreSQL server on $CI_PG_HOST:$CI_PG_PORT"
        else
            pg_log "$CI_PG_HOST:$CI_PG_PORT answers but does not let user postgres in without a password"
            pg_start_private
        fi
    else
        pg_log "no PostgreSQL answers on $CI_PG_HOST:$CI_PG_PORT"
        pg_start_private
    fi

    psql=$(pg_bin psql)
    if [[ $("$psql" -X -h "$CI_PG_HOST" -p "$CI_PG_PORT" -U postgres -d postgres -Atc \
        "SELECT 1 FROM pg_database WHERE datname = '$CI_PG_DB'" </dev/null) != 1 ]]; then
        pg_log "creating database $CI_PG_DB"
        "$psql" -X -q -h "$CI_PG_HOST" -p "$CI_PG_PORT" -U postgres -d postgres \
            -c "CREATE DATABASE \"$CI_PG_DB\"" </dev/null
    fi
    pg_can_connect "$CI_PG_PORT" "$CI_PG_DB" || {
        pg_log "cannot connect to database $CI_PG_DB on $CI_PG_HOST:$CI_PG_PORT"
        return 1
    }
    PG_URL="postgres://postgres@$CI_PG_HOST:$CI_PG_PORT/$CI_PG_DB"
}
