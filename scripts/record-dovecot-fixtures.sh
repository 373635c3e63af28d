#!/usr/bin/env bash
# Record Dovecot's answers (ENVELOPE, BODY, BODYSTRUCTURE, BODY[...], BINARY[...]) for the
# MIME corpus into test/fixtures/mime/dovecot/*.json, with the version in .../VERSION.
#
# Starts a private Dovecot (2.3 config syntax) on 127.0.0.1:$PORT with its own config and
# maildir in a temp dir, records, and stops it again. Re-runnable; the project's tests
# never need Dovecot (they read the committed JSON).
#
#   apt-get install -y dovecot-imapd     # once; stop/disable the system service if it starts
#   bash scripts/record-dovecot-fixtures.sh
#
# Environment: PORT (default 14399), KEEP_TMP=1 to keep the temp dir for debugging.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CORPUS="$ROOT/test/fixtures/mime/corpus"
OUT="$ROOT/test/fixtures/mime/dovecot"
PORT="${PORT:-14399}"
USER_NAME=fixtures
PASSWORD=fixtures-pass

command -v dovecot >/dev/null || { echo "dovecot not installed (apt-get install -y dovecot-imapd)" >&2; exit 1; }
VERSION="$(dovecot --version)"
case "$VERSION" in
  2.3.*) ;;
  *) echo "warning: config written for Dovecot 2.3, found $VERSION" >&2 ;;
esac

# Mail is stored as the invoking user, or as nobody when run as root (Dovecot refuses
# UID 0 for mail access); Dovecot's internal processes run as its own users.
if [ "$(id -u)" = 0 ]; then
  MAIL_UID="$(id -u nobody)"
  MAIL_GID="$(id -g nobody)"
else
  MAIL_UID="$(id -u)"
  MAIL_GID="$(id -g)"
fi
INTERNAL_USER="$(getent passwd dovecot >/dev/null && echo dovecot || id -un)"
LOGIN_USER="$(getent passwd dovenull >/dev/null && echo dovenull || echo "$INTERNAL_USER")"

TMP="$(mktemp -d /tmp/mailroom-dovecot.XXXXXX)"
CONF="$TMP/dovecot.conf"
mkdir -p "$TMP/run" "$TMP/state" "$TMP/home"
chmod 755 "$TMP"
chown "$MAIL_UID:$MAIL_GID" "$TMP/home"
echo "$USER_NAME:{PLAIN}$PASSWORD:$MAIL_UID:$MAIL_GID::$TMP/home" > "$TMP/passwd"

cat > "$CONF" <<EOF
# Private Dovecot for recording MIME fixtures; nothing outside $TMP is touched.
protocols = imap
listen = 127.0.0.1
base_dir = $TMP/run
state_dir = $TMP/state
log_path = $TMP/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = $INTERNAL_USER
default_login_user = $LOGIN_USER
mail_location = maildir:$TMP/home/Maildir
mail_fsync = never
passdb {
  driver = passwd-file
  args = scheme=PLAIN $TMP/passwd
}
userdb {
  driver = passwd-file
  args = $TMP/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
EOF

stop() {
  dovecot -c "$CONF" stop >/dev/null 2>&1 || true
  for _ in $(seq 50); do
    [ -f "$TMP/run/master.pid" ] || break
    sleep 0.1
  done
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap stop EXIT

dovecot -c "$CONF"
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

rm -f "$OUT"/*.json
mkdir -p "$OUT"
python3 "$ROOT/scripts/record-dovecot-fixtures.py" 127.0.0.1 "$PORT" "$USER_NAME" "$PASSWORD" "$CORPUS" "$OUT"
echo "$VERSION" > "$OUT/VERSION"
echo "recorded $(ls "$OUT"/*.json | wc -l) fixtures with Dovecot $VERSION into $OUT"
