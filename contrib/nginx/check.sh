#!/bin/sh
# Checks contrib/nginx/relay.conf with `nginx -t`, as any user and without starting nginx: the
# sample is included in a minimal nginx.conf, with its certificate paths pointed at a
# self-signed certificate made by openssl in a temporary directory. `nginx -t` binds the
# sample's ports (80, 443) for a moment: it runs in a network namespace of its own (unshare -rn)
# where the system allows one, so that it needs no root and disturbs nothing.
# Usage: contrib/nginx/check.sh [NGINX]   (default: $NGINX, nginx on PATH, /usr/sbin/nginx)
# Prints TAP; skipped when there is no nginx (Debian: apt install nginx).
set -eu
sample="$(cd "$(dirname "$0")" && pwd)/relay.conf"
nginx="${1:-${NGINX:-$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)}}"

if [ ! -x "$nginx" ]; then
	echo "1..0 # SKIP nginx is not installed"
	exit 0
fi
echo "1..1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=relay.example \
	-keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
sed "s|/etc/letsencrypt/live/relay.example/|$dir/|g" "$sample" >"$dir/relay.conf"
if grep -q /etc/letsencrypt "$dir/relay.conf"; then
	echo "not ok 1 - the sample's certificate paths are certbot's for relay.example"
	exit 1
fi
# in the namespace nginx is root, and would hand its temporary directories to an unmapped user
cat >"$dir/nginx.conf" <<CONF
user root;
pid $dir/nginx.pid;
error_log $dir/error.log;
events {}
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	include $dir/relay.conf;
}
CONF
set -- "$nginx" -t -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
if unshare -rn true 2>/dev/null; then
	set -- unshare -rn "$@"
fi
if "$@" >"$dir/test.txt" 2>&1; then
	echo "ok 1 - nginx -t accepts the sample ($("$nginx" -v 2>&1 | sed 's/.*: //'))"
else
	echo "not ok 1 - nginx -t accepts the sample"
	cat "$dir/test.txt" >&2
	exit 1
fi
