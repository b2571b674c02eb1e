#!/bin/sh
# deploy/Dockerfile's entrypoint. `serve ...` (the image's CMD) first migrates the ledger (a
# no-op when it is current), then becomes the server, so docker stop's SIGTERM reaches it.
# Another cobrador subcommand runs as given (`docker run ... cobrador-image agent add --db
# /var/lib/cobrador/cobrador.db --name Ana --role supervisor`), and so does any program (`sh`).
set -e
umask 0077   # as the systemd unit's UMask=: the ledger, its -wal/-shm and backups only for cobrador
if [ "$1" = serve ]; then
    /usr/bin/cobrador migrate --db "${COBRADOR_DB:-/var/lib/cobrador/cobrador.db}"
    exec /usr/bin/cobrador "$@"
fi
if [ $# -gt 0 ] && command -v "$1" >/dev/null 2>&1; then
    exec "$@"
fi
exec /usr/bin/cobrador "$@"
