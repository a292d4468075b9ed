"""The container's health probe: `python -m evently.healthcheck` exits 0 when the server in this
container answers 200 on /api/health, 1 otherwise.

It asks with a Host header that ALLOWED_HOSTS serves (the first name it lists), so the probe
passes whatever public name the deployment uses: with `ALLOWED_HOSTS=tickets.example.com` a
request for `127.0.0.1` would be refused with a 400 and the container would never turn healthy.
It reads the address the way gunicorn.conf.py does (GUNICORN_BIND, else 127.0.0.1:$PORT), and
imports nothing of Django, so it stays cheap to run every few seconds.
"""

import os
import sys
import urllib.error
import urllib.request

WILDCARD_ADDRESSES = {"", "0.0.0.0", "[::]", "::"}


def served_host(allowed_hosts: str) -> str:
    """A Host header that Django accepts under this ALLOWED_HOSTS (settings.env_list's form)."""
    names = [name.strip() for name in allowed_hosts.split(",") if name.strip()]
    if not names or names[0] == "*":
        return "localhost"
    # ".example.com" serves example.com and every subdomain of it.
    return names[0].lstrip(".")


def health_url(environ) -> str:
    bind = environ.get("GUNICORN_BIND") or f"127.0.0.1:{environ.get('PORT') or '8080'}"
    address, _, port = bind.rpartition(":")
    if address in WILDCARD_ADDRESSES:
        address = "127.0.0.1"
    return f"http://{address}:{port}/api/health"


def main(environ=os.environ) -> int:
    request = urllib.request.Request(
        health_url(environ),
        headers={"Host": served_host(environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]"))},
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: /api/health answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
