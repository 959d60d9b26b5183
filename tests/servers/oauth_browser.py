#!/usr/bin/python3
# tests/servers/oauth_browser.py: the scripted "browser" of the OAuth tests, run as $BROWSER:
# opens the URL it is given, follows the provider's redirects and records what it saw.
"""Usage: oauth_browser.py URL

Fetches URL with GET, following redirects (the provider's 302 to the client's loopback
listener), as a user's browser would after the user signed in and consented. When
OAUTH_BROWSER_LOG names a file, appends one JSON line to it: {"url", "final_url", "status",
"body"} (status 0 and "error" when nothing answered). Exits 0 when the last page answered
2xx, 1 otherwise. It waits for the page, so a client must be listening before it runs this.
"""
import json
import os
import sys
import urllib.error
import urllib.request


def browse(url, timeout=30):
    """(final URL, HTTP status, page text, error or None) after following redirects."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.geturl(), resp.status, resp.read().decode("utf-8", "replace"), None
    except urllib.error.HTTPError as e:
        return e.geturl(), e.code, e.read().decode("utf-8", "replace"), None
    except (urllib.error.URLError, OSError) as e:
        return url, 0, "", repr(e)


def main(argv):
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 64
    final, status, body, error = browse(argv[1])
    log = os.environ.get("OAUTH_BROWSER_LOG")
    if log:
        entry = {"url": argv[1], "final_url": final, "status": status, "body": body}
        if error:
            entry["error"] = error
        with open(log, "a") as f:
            f.write(json.dumps(entry) + "\n")
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
