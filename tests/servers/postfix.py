# tests/servers/postfix.py: a throwaway real Postfix instance on loopback (plain, STARTTLS
# submission and implicit-TLS ports, Cyrus SASL via a private sasldb) delivering to one Maildir.
import atexit
import grp
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time

from . import netutil

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"

# Recipients the default access map refuses at RCPT time (partial-recipient tests);
# an optional "+tag" is allowed so tests can make them unique.
DEFAULT_RECIPIENT_RULES = [
    (r"^reject(\+[^@]*)?@example\.test$", "550 5.1.1 test: recipient rejected"),
    (r"^later(\+[^@]*)?@example\.test$", "450 4.2.1 test: recipient deferred, try later"),
]
# A message carrying this header is refused after end-of-DATA (550 5.7.1).
REJECT_DATA_HEADER = "X-Outbox-Test-Reject"

SASL_MECHS = "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256"

# Every service runs unchrooted (5th column n): the private paths are not in a jail.
_MASTER_CF_TAIL = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    """A private Postfix instance. All mail, for any recipient, lands in one Maildir.

    Ports (attributes): plain_port (no TLS, no AUTH, relays for loopback),
    submission_port (STARTTLS offered, AUTH offered even before TLS, AUTH required
    to send), smtps_port (implicit TLS, AUTH required to send). Log in as
    .user / .password (a plain user name; the realm is smtpd_sasl_local_domain,
    so Postfix reports the login as .sasl_username = user@realm). The TLS ports
    ask for (but do not require) a client certificate, verified against the
    test CA.
    """

    realm = "example.test"

    def __init__(self, pki, user="outbox-user", password=None,
                 recipient_rules=None, submission_requires_auth=True,
                 main_cf=None, ipv6=None, start_timeout=15.0):
        self.pki = pki
        self.user = user
        self.password = password or secrets.token_urlsafe(18)
        self.recipient_rules = list(DEFAULT_RECIPIENT_RULES if recipient_rules is None
                                    else recipient_rules)
        self.submission_requires_auth = submission_requires_auth
        self.extra_main_cf = dict(main_cf or {})
        self.ipv6 = netutil.have_ipv6_loopback() if ipv6 is None else ipv6
        self.start_timeout = start_timeout
        self.host = netutil.LOOPBACK4
        self.base = None
        self.started = False
        self.startup_seconds = None

    # --- paths -----------------------------------------------------------------
    def _p(self, *parts):
        return os.path.join(self.base, *parts)

    @property
    def sasl_username(self):
        """How Postfix reports the login (Received header, logs): user@realm."""
        return f"{self.user}@{self.realm}"

    @property
    def config_dir(self):
        return self._p("etc")

    @property
    def maildir(self):
        return self._p("mail", "inbox")

    @property
    def maillog(self):
        return self._p("log", "maillog")

    @property
    def sasldb(self):
        return self._p("sasl", "sasldb2")

    # --- lifecycle ---------------------------------------------------------------
    def start(self):
        t0 = time.monotonic()
        self.base = netutil.world_traversable_tempdir("outbox-postfix-")
        atexit.register(self.stop)
        try:
            self._pick_ports()
            self._write_layout()
            self._write_config()
            self._create_sasl_user()
            self._postfix("start")
            self.started = True
            for port, tls in ((self.plain_port, False), (self.submission_port, False),
                              (self.smtps_port, True)):
                hosts = [netutil.LOOPBACK4] + ([netutil.LOOPBACK6] if self.ipv6 else [])
                for host in hosts:
                    netutil.wait_for_220(port, host, implicit_tls=tls,
                                         timeout=self.start_timeout,
                                         alive=self._master_alive)
        except BaseException as e:
            log = self.log()
            self.stop()
            if isinstance(e, Exception):
                raise RuntimeError(f"Postfix failed to start: {e}\n--- maillog ---\n"
                                   f"{log[-4000:]}") from e
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self):
        """Stop the instance (postfix stop, then kill by pid) and remove its files."""
        if self.base is None:
            return
        pid = self._master_pid()
        if self.started or pid:
            descendants = _descendants(pid) if pid else []
            subprocess.run([POSTFIX, "-c", self.config_dir, "stop"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
            if pid and not _wait_gone(pid, 5.0):
                for p in [pid] + descendants:
                    _kill(p, signal.SIGKILL)
                _wait_gone(pid, 2.0)
            for p in descendants:
                if not _wait_gone(p, 1.0):
                    _kill(p, signal.SIGKILL)
        self.started = False
        if not netutil.keep_dirs():
            shutil.rmtree(self.base, ignore_errors=True)
        self.base = None
        atexit.unregister(self.stop)

    def reload(self, timeout=5.0):
        """Re-read config and maps (e.g. after set_recipient_rules). Returns once the
        smtpd processes that had the old maps loaded are gone, so the next
        connection is served with the new ones."""
        pid = self._master_pid()
        old = [p for p in (_descendants(pid) if pid else []) if _comm(p) == "smtpd"]
        self._postfix("reload")
        for p in old:
            _wait_gone(p, timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- mail and logs -----------------------------------------------------------
    def messages(self):
        """[(filename, bytes)] of delivered messages in Maildir new/, oldest first.
        Postfix stores LF line ends and prepends Return-Path, Delivered-To and
        Received headers."""
        new = os.path.join(self.maildir, "new")
        try:
            names = os.listdir(new)
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            path = os.path.join(new, name)
            try:
                with open(path, "rb") as f:
                    out.append((os.stat(path).st_mtime_ns, name, f.read()))
            except FileNotFoundError:
                continue
        out.sort()
        return [(name, data) for _, name, data in out]

    def wait_messages(self, n, timeout=5.0):
        """Wait until at least n messages were delivered; returns messages()."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages()
            if len(msgs) >= n or time.monotonic() >= deadline:
                if len(msgs) < n:
                    raise TimeoutError(f"want {n} delivered messages, got {len(msgs)} "
                                       f"after {timeout}s\n--- maillog tail ---\n"
                                       f"{self.log()[-3000:]}")
                return msgs
            time.sleep(0.02)

    def wait_message(self, needle, timeout=5.0):
        """Wait for the first delivered message containing bytes needle (e.g. a
        unique Message-ID); returns its bytes."""
        if isinstance(needle, str):
            needle = needle.encode()
        deadline = time.monotonic() + timeout
        while True:
            for _, data in self.messages():
                if needle in data:
                    return data
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no delivered message contains {needle!r} after "
                                   f"{timeout}s\n--- maillog tail ---\n"
                                   f"{self.log()[-3000:]}")
            time.sleep(0.02)

    def wait_idle(self, timeout=5.0):
        """Wait until nothing is in the incoming/active queues (all accepted mail
        delivered, deferred mail aside). Returns False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            busy = False
            for q in ("incoming", "active", "maildrop"):
                for _, _, files in os.walk(self._p("queue", q)):
                    if files:
                        busy = True
            if not busy:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def clear_messages(self):
        """Empty the Maildir (after letting in-flight deliveries finish)."""
        self.wait_idle(2.0)
        for sub in ("new", "cur", "tmp"):
            d = os.path.join(self.maildir, sub)
            for name in os.listdir(d) if os.path.isdir(d) else []:
                try:
                    os.unlink(os.path.join(d, name))
                except FileNotFoundError:
                    pass

    def log(self):
        if self.base is None:
            return ""
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def set_recipient_rules(self, rules):
        """Replace the RCPT access rules: [(regexp on the address, "NNN text")].
        Takes effect for new connections once reload() ran."""
        self.recipient_rules = list(rules)
        self._write_access_map()
        self._backdate_config()
        self.reload()

    def postconf(self, *args):
        return subprocess.run([POSTCONF, "-c", self.config_dir, *args],
                              capture_output=True, text=True, check=True).stdout

    # --- internals ---------------------------------------------------------------
    def _pick_ports(self):
        used = []
        for attr in ("plain_port", "submission_port", "smtps_port"):
            port = netutil.free_port(also_ipv6=self.ipv6, avoid=used)
            used.append(port)
            setattr(self, attr, port)

    def _write_layout(self):
        postfix_uid = pwd.getpwnam("postfix").pw_uid
        postfix_gid = grp.getgrnam("postfix").gr_gid
        nobody = pwd.getpwnam("nobody")
        self.deliver_uid, self.deliver_gid = nobody.pw_uid, nobody.pw_gid
        for d, mode in (("etc", 0o755), ("etc/sasl", 0o755), ("queue", 0o755),
                        ("data", 0o700), ("mail", 0o755), ("log", 0o755),
                        ("sasl", 0o750)):
            os.makedirs(self._p(d), exist_ok=True)
            os.chmod(self._p(d), mode)
        os.chown(self._p("data"), postfix_uid, postfix_gid)
        # smtpd runs as postfix and opens the sasldb itself.
        os.chown(self._p("sasl"), 0, postfix_gid)
        # virtual(8) delivers as nobody and creates the Maildir itself.
        os.chown(self._p("mail"), self.deliver_uid, self.deliver_gid)

    def _write_access_map(self):
        with open(self._p("etc", "recipient_access"), "w") as f:
            f.write("# RCPT TO rules for tests (regexp table, first match wins)\n")
            for pattern, reply in self.recipient_rules:
                f.write(f"/{pattern}/ {reply}\n")

    def _write_config(self):
        mynetworks = "127.0.0.0/8" + (" [::1]/128" if self.ipv6 else "")
        main = {
            "compatibility_level": "3.6",
            "queue_directory": self._p("queue"),
            "data_directory": self._p("data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "localhost",
            "mydomain": "example.test",
            "myorigin": "$mydomain",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "all" if self.ipv6 else "ipv4",
            "mynetworks": mynetworks,
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.base,
            "syslog_name": "postfix-outbox-test",
            # Nothing is ever relayed off this host: all mail, any domain, goes to
            # the virtual(8) agent and one Maildir ("inbox/": trailing slash = Maildir).
            "mydestination": "",
            "local_recipient_maps": "",
            "relay_domains": "",
            "relayhost": "",
            "alias_maps": "",
            "alias_database": "",
            "virtual_mailbox_domains": "example.test",
            "virtual_mailbox_base": self._p("mail"),
            "virtual_mailbox_maps": "static:inbox/",
            "virtual_uid_maps": f"static:{self.deliver_uid}",
            "virtual_gid_maps": f"static:{self.deliver_gid}",
            "virtual_transport": "virtual",
            "default_transport": "virtual",
            "relay_transport": "virtual",
            "local_transport": "virtual",
            "smtp_dns_support_level": "disabled",
            # Keep what the client sent: no header/address rewriting for loopback
            # clients (Postfix would otherwise add Date/Message-ID/From if missing).
            "local_header_rewrite_clients": "",
            "always_add_missing_headers": "no",
            "smtpd_peername_lookup": "no",
            "biff": "no",
            "append_dot_mydomain": "no",
            "smtputf8_enable": "yes",
            # Tests send in bursts and provoke errors: no tar-pitting.
            "in_flow_delay": "0",
            "smtpd_error_sleep_time": "0",
            "smtpd_soft_error_limit": "100",
            "smtpd_hard_error_limit": "200",
            "smtpd_relay_restrictions":
                "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
            "smtpd_recipient_restrictions":
                "check_recipient_access regexp:" + self._p("etc", "recipient_access"),
            "header_checks": "regexp:" + self._p("etc", "header_checks"),
            # TLS (offered per service in master.cf)
            "smtpd_tls_cert_file": self.pki.server_cert,
            "smtpd_tls_key_file": self.pki.server_key,
            "smtpd_tls_security_level": "none",
            "smtpd_tls_loglevel": "1",
            "smtpd_tls_received_header": "yes",
            # Client certificates are requested (not required) on the TLS ports and
            # verified against the test CA; the Received header then names the
            # client's CN, so client-cert tests can see one was presented.
            "smtpd_tls_CAfile": self.pki.ca_cert,
            "smtpd_tls_ask_ccert": "no",
            # Cyrus SASL with a private config dir and sasldb
            "smtpd_sasl_type": "cyrus",
            "smtpd_sasl_path": "smtpd",
            "cyrus_sasl_config_path": self._p("etc", "sasl"),
            "smtpd_sasl_local_domain": self.realm,
            "smtpd_sasl_security_options": "noanonymous",
            "smtpd_sasl_tls_security_options": "noanonymous",
            "smtpd_sasl_authenticated_header": "yes",
            "smtpd_sasl_auth_enable": "no",
            "smtpd_tls_auth_only": "no",
            "broken_sasl_auth_clients": "no",
        }
        main.update(self.extra_main_cf)
        with open(self._p("etc", "main.cf"), "w") as f:
            f.write("# throwaway Postfix instance for outbox e2e tests (generated)\n")
            for k, v in main.items():
                f.write(f"{k} = {v}\n")

        auth_relay = ("permit_sasl_authenticated,reject" if self.submission_requires_auth
                      else "permit_mynetworks,permit_sasl_authenticated,"
                           "reject_unauth_destination")
        services = [
            (self.plain_port, "plain", []),
            (self.submission_port, "submission", [
                "smtpd_tls_security_level=may",
                "smtpd_tls_ask_ccert=yes",
                "smtpd_sasl_auth_enable=yes",
                "smtpd_tls_auth_only=no",
                "smtpd_relay_restrictions=" + auth_relay,
            ]),
            (self.smtps_port, "smtps", [
                "smtpd_tls_wrappermode=yes",
                "smtpd_tls_security_level=encrypt",
                "smtpd_tls_ask_ccert=yes",
                "smtpd_sasl_auth_enable=yes",
                "smtpd_relay_restrictions=" + auth_relay,
            ]),
        ]
        lines = ["# service type private unpriv chroot wakeup maxproc command"]
        hosts = [netutil.LOOPBACK4] + (["[::1]"] if self.ipv6 else [])
        for port, name, opts in services:
            for host in hosts:
                lines.append(f"{host}:{port} inet n - n - - smtpd")
                lines.append(f"  -o syslog_name=postfix-outbox-test/{name}")
                lines += [f"  -o {o}" for o in opts]
        with open(self._p("etc", "master.cf"), "w") as f:
            f.write("\n".join(lines) + "\n" + _MASTER_CF_TAIL)

        self._write_access_map()
        with open(self._p("etc", "header_checks"), "w") as f:
            f.write(f"/^{REJECT_DATA_HEADER}:/ REJECT test: message refused after DATA\n")
        with open(self._p("etc", "sasl", "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: auxprop\n"
                    "auxprop_plugin: sasldb\n"
                    f"sasldb_path: {self.sasldb}\n"
                    f"mech_list: {SASL_MECHS}\n")
        self._backdate_config()

    def _backdate_config(self):
        # Postfix refuses to read a main.cf younger than a second or so ("being
        # edited") and sleeps in 300 ms steps; a past mtime saves ~2.5 s of start-up.
        past = time.time() - 60
        for dirpath, _, names in os.walk(self.config_dir):
            for name in names:
                os.utime(os.path.join(dirpath, name), (past, past))

    def _create_sasl_user(self):
        # -p reads the password from stdin (no prompt); -u realm matches
        # smtpd_sasl_local_domain so clients log in with the bare user name.
        proc = subprocess.run(
            [SASLPASSWD2, "-c", "-p", "-f", self.sasldb, "-u", self.realm, self.user],
            input=self.password.encode(), capture_output=True, timeout=30)
        if proc.returncode != 0:
            raise RuntimeError(f"saslpasswd2 failed: {proc.stderr.decode()}")
        os.chown(self.sasldb, 0, grp.getgrnam("postfix").gr_gid)
        os.chmod(self.sasldb, 0o640)

    def _postfix(self, command):
        # Output goes to a file, not a pipe: the daemonized master inherits the
        # descriptors, and reading a pipe to EOF would wait on it (~2 s).
        out_path = self._p("log", "postfix-command.out")
        with open(out_path, "w+") as out:
            proc = subprocess.run([POSTFIX, "-c", self.config_dir, command],
                                  stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=60)
            out.seek(0)
            text = out.read()
        if proc.returncode != 0:
            raise RuntimeError(f"postfix {command} failed ({proc.returncode}): {text}")

    def _master_pid(self):
        if self.base is None:
            return None
        try:
            with open(self._p("queue", "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    def _master_alive(self):
        return self._master_pid() is not None


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


def _descendants(pid):
    """PIDs of every live descendant of pid (from /proc, no name matching)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True
