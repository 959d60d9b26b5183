# tests/servers/pki.py: builds a throwaway test PKI with the openssl CLI: a test CA, good
# server and client certs it signs, and deliberately bad server certs for refusal tests.
import base64
import dataclasses
import hashlib
import os
import secrets
import ssl
import subprocess

OPENSSL = "openssl"

# Names the good server certificate is valid for; clients connect to these.
SERVER_SANS = "DNS:localhost,IP:127.0.0.1,IP:::1"

_CONFIG = """\
# openssl config for the outbox test PKI (generated, throwaway)
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[ca]
default_ca = test_ca
[test_ca]
dir = {dir}
database = {dir}/ca-db/index.txt
new_certs_dir = {dir}/ca-db/new
serial = {dir}/ca-db/serial
certificate = {dir}/ca.crt
private_key = {dir}/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[policy_any]
commonName = supplied

[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = {sans}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[wrong_name_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[selfsigned_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = {sans}
subjectKeyIdentifier = hash

[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


@dataclasses.dataclass
class Pki:
    """Paths (PEM files) of the test PKI plus pins of the good server cert."""
    dir: str
    ca_cert: str            # trust anchor clients should use
    ca_key: str
    server_cert: str        # good: signed by ca_cert, for localhost/127.0.0.1/::1
    server_key: str
    client_cert: str        # signed by ca_cert, clientAuth (EXTERNAL tests)
    client_key: str
    selfsigned_cert: str    # bad: self-signed, for localhost
    selfsigned_key: str
    unknown_ca_cert: str    # the second CA, which clients do not trust
    unknown_ca_server_cert: str  # bad: localhost cert signed by unknown_ca_cert
    unknown_ca_server_key: str
    wrong_name_cert: str    # bad: signed by ca_cert, only for wrong.example
    wrong_name_key: str
    expired_cert: str       # bad: signed by ca_cert, for localhost, expired in 2020
    expired_key: str
    server_sha256: str      # hex SHA-256 of the good server cert's DER
    server_spki_sha256_b64: str  # base64 SHA-256 of its SubjectPublicKeyInfo (pin)

    def pairs(self):
        """{name: (cert, key)} of every server certificate, good and bad."""
        return {
            "good": (self.server_cert, self.server_key),
            "selfsigned": (self.selfsigned_cert, self.selfsigned_key),
            "unknown_ca": (self.unknown_ca_server_cert, self.unknown_ca_server_key),
            "wrong_name": (self.wrong_name_cert, self.wrong_name_key),
            "expired": (self.expired_cert, self.expired_key),
        }

    def as_dict(self):
        return dataclasses.asdict(self)


def _run(*args, cwd):
    proc = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({proc.returncode}):\n"
                           f"{proc.stderr}")
    return proc.stdout


def _key(d, name):
    path = os.path.join(d, name + ".key")
    _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", path, cwd=d)
    return path


def _serial():
    return "0x" + secrets.token_hex(8)


def _self_signed(d, cfg, name, cn, ext):
    key = _key(d, name)
    crt = os.path.join(d, name + ".crt")
    _run("req", "-config", cfg, "-x509", "-new", "-key", key, "-subj", "/CN=" + cn,
         "-extensions", ext, "-days", "3650", "-sha256", "-set_serial", _serial(),
         "-out", crt, cwd=d)
    return crt, key


def _signed(d, cfg, name, cn, ext, ca_crt, ca_key):
    key = _key(d, name)
    csr = os.path.join(d, name + ".csr")
    crt = os.path.join(d, name + ".crt")
    _run("req", "-config", cfg, "-new", "-key", key, "-subj", "/CN=" + cn,
         "-out", csr, cwd=d)
    _run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
         "-set_serial", _serial(), "-days", "825", "-sha256",
         "-extfile", cfg, "-extensions", ext, "-out", crt, cwd=d)
    os.unlink(csr)
    return crt, key


def _expired(d, cfg, name, cn):
    """Signed by the test CA with a validity window wholly in the past (OpenSSL 3.0's
    x509 has no -not_before/-not_after, so go through `openssl ca`)."""
    key = _key(d, name)
    csr = os.path.join(d, name + ".csr")
    crt = os.path.join(d, name + ".crt")
    _run("req", "-config", cfg, "-new", "-key", key, "-subj", "/CN=" + cn,
         "-out", csr, cwd=d)
    _run("ca", "-config", cfg, "-batch", "-notext", "-in", csr, "-out", crt,
         "-extensions", "server_ext",
         "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", cwd=d)
    os.unlink(csr)
    return crt, key


def cert_sha256(path):
    """Hex SHA-256 of a PEM certificate's DER encoding."""
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def spki_sha256_b64(cert_path, d):
    der = subprocess.run(
        [OPENSSL, "x509", "-in", cert_path, "-noout", "-pubkey"],
        capture_output=True, check=True, cwd=d).stdout
    spki = subprocess.run([OPENSSL, "pkey", "-pubin", "-outform", "DER"], input=der,
                          capture_output=True, check=True, cwd=d).stdout
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def make_pki(d):
    """Create the test PKI in directory d (created if missing; must hold no PKI yet)."""
    d = os.path.abspath(d)
    os.makedirs(os.path.join(d, "ca-db", "new"), exist_ok=True)
    if os.path.exists(os.path.join(d, "ca.crt")):
        raise FileExistsError(f"{d} already holds a PKI")
    open(os.path.join(d, "ca-db", "index.txt"), "w").close()
    with open(os.path.join(d, "ca-db", "serial"), "w") as f:
        f.write(secrets.token_hex(8).upper() + "\n")
    cfg = os.path.join(d, "openssl.cnf")
    with open(cfg, "w") as f:
        f.write(_CONFIG.format(dir=d, sans=SERVER_SANS))

    ca_crt, ca_key = _self_signed(d, cfg, "ca", "outbox test CA", "ca_ext")
    srv_crt, srv_key = _signed(d, cfg, "server", "localhost", "server_ext",
                               ca_crt, ca_key)
    cli_crt, cli_key = _signed(d, cfg, "client", "outbox test client", "client_ext",
                               ca_crt, ca_key)
    ss_crt, ss_key = _self_signed(d, cfg, "selfsigned", "localhost", "selfsigned_ext")
    uca_crt, uca_key = _self_signed(d, cfg, "unknown-ca", "outbox UNKNOWN CA", "ca_ext")
    ucs_crt, ucs_key = _signed(d, cfg, "unknown-ca-server", "localhost", "server_ext",
                               uca_crt, uca_key)
    wn_crt, wn_key = _signed(d, cfg, "wrong-name", "wrong.example", "wrong_name_ext",
                             ca_crt, ca_key)
    ex_crt, ex_key = _expired(d, cfg, "expired", "localhost")
    # Certs world-readable, keys root-only (Postfix loads keys before dropping privileges).
    for name in os.listdir(d):
        if name.endswith(".crt"):
            os.chmod(os.path.join(d, name), 0o644)
        elif name.endswith(".key"):
            os.chmod(os.path.join(d, name), 0o600)
    os.chmod(d, 0o755)

    return Pki(
        dir=d, ca_cert=ca_crt, ca_key=ca_key,
        server_cert=srv_crt, server_key=srv_key,
        client_cert=cli_crt, client_key=cli_key,
        selfsigned_cert=ss_crt, selfsigned_key=ss_key,
        unknown_ca_cert=uca_crt,
        unknown_ca_server_cert=ucs_crt, unknown_ca_server_key=ucs_key,
        wrong_name_cert=wn_crt, wrong_name_key=wn_key,
        expired_cert=ex_crt, expired_key=ex_key,
        server_sha256=cert_sha256(srv_crt),
        server_spki_sha256_b64=spki_sha256_b64(srv_crt, d),
    )


def make_named_cert(pki, name, dns_names, ips=()):
    """(cert, key) signed by pki's test CA for these names, such as autoconfig.example.test and
    example.test: servers that clients reach by a name a resolver (or a pin) maps to loopback."""
    d = pki.dir
    sans = ",".join([f"DNS:{n}" for n in dns_names] + [f"IP:{a}" for a in ips])
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("[named_ext]\nbasicConstraints = critical,CA:FALSE\n"
                "keyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n"
                f"subjectAltName = {sans}\nsubjectKeyIdentifier = hash\n"
                "authorityKeyIdentifier = keyid\n")
    key = _key(d, name)
    csr = os.path.join(d, name + ".csr")
    crt = os.path.join(d, name + ".crt")
    _run("req", "-config", os.path.join(d, "openssl.cnf"), "-new", "-key", key,
         "-subj", "/CN=" + dns_names[0], "-out", csr, cwd=d)
    _run("x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", pki.ca_key,
         "-set_serial", _serial(), "-days", "2", "-sha256",
         "-extfile", ext, "-extensions", "named_ext", "-out", crt, cwd=d)
    os.unlink(csr)
    os.chmod(crt, 0o644)
    os.chmod(key, 0o600)
    return crt, key
