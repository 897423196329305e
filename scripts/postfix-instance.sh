#!/usr/bin/env bash
# Private, loopback-only Postfix instance that accepts mail for example.test and
# discards it, for benchmarking smtpbench against a real MTA.
#
# Usage (as root):
#   scripts/postfix-instance.sh [start] [DIR] [PORT]   # default DIR=/tmp/smtpbench-postfix, PORT=2525
#   scripts/postfix-instance.sh start DIR PORT --relay 127.0.0.1:SINKPORT
#   scripts/postfix-instance.sh stop [DIR]
#   scripts/postfix-instance.sh status [DIR]
#
# "start" is idempotent: it installs Postfix from Debian's packages if missing,
# (re)writes DIR/etc/main.cf and DIR/etc/master.cf, starts the instance (or reloads
# it when it is already running), waits for the 220 greeting and prints
#   SMTPBENCH_POSTFIX=127.0.0.1:PORT
#   SMTPBENCH_POSTFIX_LOG=DIR/maillog
#
# Three more listeners serve the client's feature tests (test/postfix-client.int.test.ts
# derives them from PORT and DIR, so CI needs no extra variables):
#   127.0.0.1:PORT+1  smtpd_recipient_limit = 10, so a fan-out gets real 452 replies; XCLIENT
#                     allowed from loopback (smtpd_authorized_xclient_hosts)
#   127.0.0.1:PORT+2  STARTTLS offered (smtpd_tls_security_level = may) with a self-signed
#                     certificate for 127.0.0.1/localhost in DIR/tls/cert.pem (made with openssl)
#   127.0.0.1:PORT+3  expects the PROXY protocol, v1 or v2 (smtpd_upstream_proxy_protocol = haproxy)
#
# With --relay HOST:PORT (or POSTFIX_INSTANCE_RELAY=HOST:PORT) the instance does not discard:
# it relays every message to [HOST]:PORT (relayhost, no MX lookup, no TLS) with short queue
# timers, so a sink there (smtpbench serve) measures delivery through Postfix's queue
# (docs/recipes.md "Delivery latency"). HOST must be a loopback address.
#
# Everything lives under DIR (config, queue, data, log). The system instance in
# /etc/postfix is never read, written, started or stopped; we only use the Postfix
# binaries with `postfix -c DIR/etc`. Running as root is enough for `-c`:
# alternate_config_directories only matters for set-gid commands (postdrop,
# postqueue), which this instance does not need.
set -euo pipefail

mode=start
case "${1:-}" in
  start | stop | status) mode=$1; shift ;;
esac
DIR=${1:-/tmp/smtpbench-postfix}
PORT=${2:-2525}
RELAY=${POSTFIX_INSTANCE_RELAY:-}
if [ "${3:-}" = --relay ]; then
  RELAY=${4:-}
  [ -n "$RELAY" ] || { printf 'postfix-instance: error: --relay needs HOST:PORT\n' >&2; exit 1; }
elif [ -n "${3:-}" ]; then
  printf 'postfix-instance: error: unexpected argument %s (expected --relay HOST:PORT)\n' "$3" >&2
  exit 1
fi

case "$DIR" in
  /*) ;;
  *) DIR="$(pwd)/$DIR" ;;
esac
DIR=${DIR%/}
CONF="$DIR/etc"
QUEUE="$DIR/queue"
DATA="$DIR/data"
LOG="$DIR/maillog"

log() { printf 'postfix-instance: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# Without a terminal the postfix command reports errors only to its log (here the
# maillog_file), so show the end of that log when a step fails.
die_with_log() {
  log "error: $*"
  if [ -s "$LOG" ]; then
    log "last lines of $LOG:"
    tail -n 20 "$LOG" >&2
  fi
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (Postfix's master runs as root and drops to the postfix user)"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
  die "bad port: $PORT"
fi
[ "$PORT" -ne 25 ] || die "refusing to listen on port 25; pick another port"
[ "$PORT" -le 65532 ] || die "port $PORT leaves no room for the feature listeners (PORT+1 .. PORT+3)"
RELAY_HOST=
RELAY_PORT=
if [ -n "$RELAY" ]; then
  RELAY_HOST=${RELAY%:*}
  RELAY_PORT=${RELAY##*:}
  [[ "$RELAY_HOST" =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--relay $RELAY: the host must be a loopback IPv4 address (127.x.y.z)"
  if ! [[ "$RELAY_PORT" =~ ^[0-9]+$ ]] || [ "$RELAY_PORT" -lt 1 ] || [ "$RELAY_PORT" -gt 65535 ]; then
    die "--relay $RELAY: bad port"
  fi
fi
LIMIT_PORT=$((PORT + 1))
TLS_PORT=$((PORT + 2))
PROXY_PORT=$((PORT + 3))

running() {
  [ -f "$CONF/main.cf" ] && command -v postfix > /dev/null && postfix -c "$CONF" status > /dev/null 2>&1
}

if [ "$mode" = stop ]; then
  if running; then
    postfix -c "$CONF" stop >&2
    # `postfix stop` returns before the master has exited; wait for it.
    for _ in $(seq 1 100); do running || break; sleep 0.1; done
    running && die "instance in $DIR did not stop"
    log "stopped instance in $DIR"
  else
    log "no instance running in $DIR"
  fi
  exit 0
fi

if [ "$mode" = status ]; then
  if running; then
    echo "running: $DIR"
    exit 0
  fi
  echo "not running: $DIR"
  exit 3
fi

# --- (a) install Postfix from Debian's packages if missing -------------------------
if ! command -v postfix > /dev/null || ! command -v postconf > /dev/null; then
  log "installing postfix (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  # Callers that just ran apt-get update themselves (e.g. .ci/run) may skip it.
  [ "${POSTFIX_INSTANCE_SKIP_APT_UPDATE:-}" = 1 ] || apt-get update -qq >&2
  # "No configuration" leaves /etc/postfix/main.cf absent, so the package's own
  # system instance is never configured or started.
  debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string smtpbench.invalid
EOF
  apt-get install -y -qq --no-install-recommends postfix >&2
fi
getent passwd postfix > /dev/null || die "user 'postfix' missing (is the postfix package installed?)"
getent group postdrop > /dev/null || die "group 'postdrop' missing (is the postfix package installed?)"

# --- (b) the private instance ------------------------------------------------------
# Postfix insists that its config and queue directories are root-owned and not
# group/other-writable, and that data_directory belongs to mail_owner.
install -d -m 0755 -o root -g root "$DIR" "$CONF" "$QUEUE"
install -d -m 0700 -o postfix -g root "$DATA"
install -d -m 0755 -o root -g root "$DIR/tls"

# The STARTTLS listener's certificate (2 days, renewed on every start; smtpd reads it as root).
command -v openssl > /dev/null || die "openssl is needed for the STARTTLS listener's certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
  -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" 2> /dev/null || die "openssl could not make a certificate"
chmod 0600 "$DIR/tls/key.pem"
chmod 0644 "$DIR/tls/cert.pem"

peername_lookup=
if postconf -d smtpd_peername_lookup 2>&1 | grep -q '^smtpd_peername_lookup = '; then
  # Postfix >= 3.7: don't reverse-resolve connecting clients.
  peername_lookup='smtpd_peername_lookup = no'
fi

# Discard mode: every transport discards. Relay mode: everything goes by smtp(8) to the sink,
# with retries a few seconds apart.
transports() {
  if [ -z "$RELAY" ]; then
    cat << 'EOF'
# Every transport discards: the discard(8) agent logs status=sent and delivers nothing.
default_transport = discard:
relay_transport = discard:
local_transport = discard:
virtual_transport = discard:
EOF
    return
  fi
  cat << EOF
# Relay mode: every message goes to the sink at [$RELAY_HOST]:$RELAY_PORT (brackets: no MX lookup).
relayhost = [$RELAY_HOST]:$RELAY_PORT
default_transport = smtp
relay_transport = smtp
local_transport = smtp:[$RELAY_HOST]:$RELAY_PORT
virtual_transport = smtp:[$RELAY_HOST]:$RELAY_PORT
smtp_tls_security_level = none
# A loopback sink: deliver at once and retry a deferred message within seconds.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
smtp_connect_timeout = 5s
default_destination_concurrency_limit = 50
default_destination_recipient_limit = 1000
EOF
}

tmp_main=$(mktemp "$CONF/.main.cf.XXXXXX")
tmp_master=$(mktemp "$CONF/.master.cf.XXXXXX")
trap 'rm -f "$tmp_main" "$tmp_master"' EXIT

cat > "$tmp_main" << EOF
# Generated by smtpbench scripts/postfix-instance.sh; rewritten on every start.
# A sink: accept mail for example.test from loopback, then discard it.
compatibility_level = 3.6

config_directory = $CONF
queue_directory = $QUEUE
data_directory = $DATA
mail_owner = postfix
setgid_group = postdrop

# Log to a private file (written by postlogd, see master.cf), not to syslog.
maillog_file = $LOG
maillog_file_prefixes = $DIR
syslog_name = postfix-smtpbench

myhostname = smtpbench-postfix.localhost
mydomain = localhost
myorigin = \$myhostname
smtpd_banner = \$myhostname ESMTP smtpbench sink (Postfix)
append_dot_mydomain = no
biff = no

# Loopback only; the single listener is defined in master.cf.
inet_interfaces = 127.0.0.1
inet_protocols = ipv4

# Nothing is local; example.test is a relay domain; only loopback may relay.
mydestination =
relay_domains = example.test
mynetworks_style = host
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
relay_recipient_maps =

$(transports)

# Load-test friendly: no input throttling, the default recipient limit, lots of processes.
in_flow_delay = 0
smtpd_recipient_limit = 1000
default_process_limit = 500
message_size_limit = 52428800

# No DNS: nothing here looks up MX/A records, and the SMTP client is never used.
smtp_host_lookup = native
lmtp_host_lookup = native
smtp_dns_support_level = disabled
$peername_lookup
EOF

cat > "$tmp_master" << EOF
# Generated by smtpbench scripts/postfix-instance.sh; rewritten on every start.
# No chroot anywhere (5th column "n"). No port-25 listener: the inet services are
# 127.0.0.1:$PORT and the feature listeners (low recipient limit + XCLIENT; STARTTLS; PROXY).
# service    type       private unpriv chroot wakeup maxproc command
127.0.0.1:$PORT inet    n       -      n      -      -       smtpd
127.0.0.1:$LIMIT_PORT inet n    -      n      -      -       smtpd
  -o smtpd_recipient_limit=10
  -o smtpd_authorized_xclient_hosts=127.0.0.0/8
127.0.0.1:$TLS_PORT inet n      -      n      -      -       smtpd
  -o smtpd_tls_security_level=may
  -o smtpd_tls_cert_file=$DIR/tls/cert.pem
  -o smtpd_tls_key_file=$DIR/tls/key.pem
  -o smtpd_tls_loglevel=1
127.0.0.1:$PROXY_PORT inet n    -      n      -      -       smtpd
  -o smtpd_upstream_proxy_protocol=haproxy
pickup       unix       n       -      n      60     1       pickup
cleanup      unix       n       -      n      -      0       cleanup
qmgr         unix       n       -      n      300    1       qmgr
rewrite      unix       -       -      n      -      -       trivial-rewrite
bounce       unix       -       -      n      -      0       bounce
defer        unix       -       -      n      -      0       bounce
trace        unix       -       -      n      -      0       bounce
verify       unix       -       -      n      -      1       verify
flush        unix       n       -      n      1000?  0       flush
proxymap     unix       -       -      n      -      -       proxymap
proxywrite   unix       -       -      n      -      1       proxymap
showq        unix       n       -      n      -      -       showq
error        unix       -       -      n      -      -       error
retry        unix       -       -      n      -      -       error
discard      unix       -       -      n      -      -       discard
smtp         unix       -       -      n      -      -       smtp
relay        unix       -       -      n      -      -       smtp
local        unix       -       n      n      -      -       local
virtual      unix       -       n      n      -      -       virtual
lmtp         unix       -       -      n      -      -       lmtp
anvil        unix       -       -      n      -      1       anvil
tlsmgr       unix       -       -      n      1000?  1       tlsmgr
scache       unix       -       -      n      -      1       scache
postlog      unix-dgram n       -      n      -      1       postlogd
EOF

chmod 0644 "$tmp_main" "$tmp_master"
mv -f "$tmp_main" "$CONF/main.cf"
mv -f "$tmp_master" "$CONF/master.cf"
trap - EXIT

# The maillog must exist before the test reads its size; postlogd appends to it.
[ -e "$LOG" ] || install -m 0644 -o root -g root /dev/null "$LOG"

# --- (c) start (or reload) and wait for the greeting --------------------------------
# `postfix check` creates the queue subdirectories (post-install create-missing) and
# fixes their ownership; it only looks at this instance's directories.
postfix -c "$CONF" check >&2 || die_with_log "postfix -c $CONF check failed"

if running; then
  log "already running in $DIR; reloading configuration"
  postfix -c "$CONF" reload >&2 || die_with_log "postfix -c $CONF reload failed"
else
  postfix -c "$CONF" start >&2 || die_with_log "postfix -c $CONF start failed"
fi

greeting() {
  # Read the first line on the port with bash's /dev/tcp; succeed if it is our 220
  # banner (not some other server that already held the port).
  local line=''
  (
    exec 3<> "/dev/tcp/127.0.0.1/$PORT" || exit 1
    IFS= read -r -t 5 line <&3 || exit 1
    printf 'QUIT\r\n' >&3 || true
    exec 3>&-
    case "$line" in "220 "*"smtpbench sink"*) exit 0 ;; *) exit 1 ;; esac
  ) 2> /dev/null
}

ok=
for _ in $(seq 1 150); do
  if greeting; then ok=1; break; fi
  sleep 0.2
done
[ -n "$ok" ] || die_with_log "no smtpbench-sink 220 greeting on 127.0.0.1:$PORT after 30 s (port taken?)"

log "private Postfix $(postconf -c "$CONF" -h mail_version) running in $DIR${RELAY:+, relaying to [$RELAY_HOST]:$RELAY_PORT}"
echo "SMTPBENCH_POSTFIX=127.0.0.1:$PORT"
echo "SMTPBENCH_POSTFIX_LOG=$LOG"
log "feature listeners: 127.0.0.1:$LIMIT_PORT (smtpd_recipient_limit 10, XCLIENT), 127.0.0.1:$TLS_PORT (STARTTLS, CA $DIR/tls/cert.pem), 127.0.0.1:$PROXY_PORT (PROXY protocol)"
