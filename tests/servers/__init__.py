# tests/servers: real SMTP servers (Postfix, aiosmtpd, smtp-sink) plus a test PKI,
# started on loopback by the end-to-end tests themselves.
"""Throwaway loopback SMTP servers and certificates for outbox's end-to-end tests.

Every server binds only to 127.0.0.1 (and ::1 where available) on a free port;
passwords are made up at run time, nothing secret lives in the repository.
"""
from .pki import Pki, make_pki
from .postfix import Postfix
from .aiosmtpd_server import Aiosmtpd
from .smtp_sink import SmtpSink

__all__ = ["Pki", "make_pki", "Postfix", "Aiosmtpd", "SmtpSink"]
