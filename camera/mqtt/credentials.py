"""The TLS context for the broker, with each file checked on its own so a mistake names its file.

paho's ``tls_set`` hands every file to OpenSSL in one call and lets its error through: a garbage
CA file, a garbage certificate, a garbage key and a key that belongs to another certificate all
end as an ``ssl.SSLError`` traceback ("PEM lib").  An encrypted key is worse: OpenSSL asks for
its passphrase on the terminal, and a service has none.  Here each file is loaded separately and
a failure is a :class:`CredentialsError` that says which option, which file and what to do.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from camera.files import UnusableFile, read_small, shown
from camera.mqtt.config import CredentialsError, TlsConfig

MAX_PEM_BYTES = 1_000_000  # a certificate chain is a few KB


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """A client context that verifies the broker, with the client certificate if configured."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and hostname check
    if tls.ca_file is None:
        context.load_default_certs()
    else:
        ca_file = _pem("ca_file", tls.ca_file, b"-----BEGIN CERTIFICATE-----", "a certificate")
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (ssl.SSLError, ValueError) as error:
            raise CredentialsError(
                f"mqtt.tls.ca_file {shown(ca_file)}: not a usable CA certificate ({_why(error)})"
            ) from None
    if tls.cert_file is not None and tls.key_file is not None:
        _client_certificate(context, tls.cert_file, tls.key_file)
    context.check_hostname = not tls.insecure
    return context


def _client_certificate(context: ssl.SSLContext, cert: Path, key: Path) -> None:
    cert_file = _pem("cert_file", cert, b"-----BEGIN CERTIFICATE-----", "a certificate")
    key_file = _pem("key_file", key, b"PRIVATE KEY-----", "a private key")
    if b"ENCRYPTED" in read_small(key_file, MAX_PEM_BYTES):
        raise CredentialsError(
            f"mqtt.tls.key_file {shown(key_file)} is protected by a passphrase; a service "
            "cannot type it: give Ronda an unencrypted key (openssl pkey -in KEY -out NEW)"
        )
    try:
        context.load_cert_chain(str(cert_file), str(key_file), password=_no_passphrase)
    except (ssl.SSLError, ValueError) as error:
        if "KEY_VALUES_MISMATCH" in str(error).upper():
            raise CredentialsError(
                f"mqtt.tls.key_file {shown(key_file)} does not match mqtt.tls.cert_file "
                f"{shown(cert_file)} (the key of another certificate)"
            ) from None
        raise CredentialsError(
            f"mqtt.tls.cert_file {shown(cert_file)} and key_file {shown(key_file)} cannot be "
            f"loaded together ({_why(error)})"
        ) from None


def _pem(option: str, configured: Path, marker: bytes, what: str) -> Path:
    """The file of ``option``, readable and holding PEM text with ``marker``."""
    path = Path(configured).expanduser()
    try:
        data = read_small(path, MAX_PEM_BYTES)
    except UnusableFile as problem:
        raise CredentialsError(f"mqtt.tls.{option} {shown(path)}: {problem}") from None
    if marker not in data:
        raise CredentialsError(
            f"mqtt.tls.{option} {shown(path)}: not {what} in PEM form (no "
            f"'{marker.decode().strip('-')}' block)"
        )
    return path


def _no_passphrase() -> bytes:
    """OpenSSL's fallback would prompt on the terminal: a service would hang there."""
    raise CredentialsError("the TLS key needs a passphrase")


def _why(error: Exception) -> str:
    reason = getattr(error, "reason", None)
    return str(reason or error).replace("_", " ").lower()
