"""How Lien reaches Jitsi: the public server, a self-hosted one with tokens, or 8x8 JaaS."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

Mode = Literal["public", "hs256", "jaas"]
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class JitsiSettings:
    """Where the video rooms live and which keys, if any, sign the links to them."""

    domain: str = "meet.jit.si"
    # Self-hosted Jitsi with `authentication = "token"` in Prosody: a shared secret, HS256.
    app_id: str | None = None
    app_secret: str | None = None
    # 8x8 JaaS: the tenant ("vpaas-magic-cookie-<id>"), the full key id
    # ("<tenant>/<key id>") and the RSA private key whose public half was uploaded to 8x8.
    jaas_tenant: str | None = None
    jaas_kid: str | None = None
    jaas_private_key: str | None = None
    # How long after the booked end a link still opens, so an overrunning lesson is not cut off.
    grace: timedelta = timedelta(minutes=5)

    @property
    def mode(self) -> Mode:
        """Which kind of link to make: "jaas", "hs256", or unsigned "public"."""
        if self.jaas_tenant and self.jaas_kid and self.jaas_private_key:
            return "jaas"
        if self.app_id and self.app_secret:
            return "hs256"
        return "public"

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> "JitsiSettings":
        """Read the JITSI_* keys of a dict-like such as Flask's config; empty values are unset."""
        pem = _text(mapping, "JITSI_PRIVATE_KEY")
        if pem and "\n" not in pem:
            # A PEM pasted into a one-line environment variable usually arrives with literal "\n".
            pem = pem.replace("\\n", "\n").strip()
        return cls(
            domain=_text(mapping, "JITSI_DOMAIN") or cls.domain,
            app_id=_text(mapping, "JITSI_APP_ID"),
            app_secret=_text(mapping, "JITSI_APP_SECRET"),
            jaas_tenant=_text(mapping, "JITSI_JAAS_TENANT"),
            jaas_kid=_text(mapping, "JITSI_KID"),
            jaas_private_key=pem,
        )

    def validate(self) -> None:
        """Raise ValueError with an explanation if the settings are half-configured."""
        # A half-configuration would otherwise fall back silently to unsigned public links.
        # A port is fine (meet.example.org:8443); a scheme or path would end up twice in the URL.
        if not self.domain or "/" in self.domain or any(c.isspace() for c in self.domain):
            raise ValueError(
                "JITSI_DOMAIN must be a bare host name such as meet.example.org, "
                f"got {self.domain!r}"
            )
        if self.app_id and not self.app_secret:
            raise ValueError("JITSI_APP_ID is set but JITSI_APP_SECRET is missing")
        if self.app_secret and not self.app_id:
            raise ValueError("JITSI_APP_SECRET is set but JITSI_APP_ID is missing")
        if self.app_secret and len(self.app_secret.encode("utf-8")) < MIN_SECRET_BYTES:
            # RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash, 256 bits.
            raise ValueError(f"JITSI_APP_SECRET must be at least {MIN_SECRET_BYTES} bytes long")
        jaas = {
            "JITSI_JAAS_TENANT": self.jaas_tenant,
            "JITSI_KID": self.jaas_kid,
            "JITSI_PRIVATE_KEY": self.jaas_private_key,
        }
        missing_jaas = [key for key, value in jaas.items() if not value]
        if missing_jaas and len(missing_jaas) < len(jaas):
            raise ValueError(f"8x8 JaaS is half-configured: {', '.join(missing_jaas)} missing")
        if self.jaas_tenant and self.jaas_kid and self.jaas_private_key:
            # JaaS rejects a kid that is not "<tenant>/<key id>" for the tenant in the URL.
            if not self.jaas_kid.startswith(f"{self.jaas_tenant}/"):
                raise ValueError(
                    f"JITSI_KID must look like '{self.jaas_tenant}/<key id>', got {self.jaas_kid!r}"
                )
            load_rsa_private_key(self.jaas_private_key)
        if self.grace < timedelta(0):
            raise ValueError("the grace period after a lesson cannot be negative")


@lru_cache(maxsize=4)
def load_rsa_private_key(pem: str) -> RSAPrivateKey:
    """Parse an unencrypted PEM RSA private key, raising ValueError if it is anything else."""
    try:
        key = load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        # TypeError is what cryptography raises for a passphrase-protected key.
        raise ValueError(f"JITSI_PRIVATE_KEY is not an unencrypted PEM key: {error}") from None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("JITSI_PRIVATE_KEY must be an RSA key: JaaS signs tokens with RS256")
    return key


def _text(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    return str(value).strip() or None
