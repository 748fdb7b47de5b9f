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
JAAS_TENANT_PREFIX = "vpaas-magic-cookie-"


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
    # The self-hosted server opens a lobby in its rooms and lets people past it by their token
    # (docs/deploy.md): jitsi-contrib/prosody-plugins' lobby_autostart with token_lobby_bypass
    # (`context.user.lobby_bypass`), or token_lobby_ondemand (`context.user.lobby`).
    lobby: bool = False

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
            lobby=_flag(mapping, "JITSI_LOBBY"),
        )

    def problems(self) -> list["Problem"]:
        """Every setting that cannot work, each with what is wrong and what to write instead."""
        # A half-configuration would otherwise fall back silently to unsigned public links.
        found: list[Problem] = []
        # A port is fine (meet.example.org:8443); a scheme or path would end up twice in the URL.
        if not self.domain or "/" in self.domain or any(c.isspace() for c in self.domain):
            found.append(Problem(
                "JITSI_DOMAIN",
                f"{self.domain!r} is not a bare host name: write only the host, such as meet.example.org "
                "(no https://, no slash)",
            ))
        if self.app_id and not self.app_secret:
            found.append(Problem(
                "JITSI_APP_SECRET",
                "is missing while JITSI_APP_ID is set: write the app_secret of Prosody's VirtualHost, "
                "or remove JITSI_APP_ID",
            ))
        if self.app_secret and not self.app_id:
            found.append(Problem(
                "JITSI_APP_ID",
                "is missing while JITSI_APP_SECRET is set: write the app_id of Prosody's VirtualHost",
            ))
        if self.app_secret and len(self.app_secret.encode("utf-8")) < MIN_SECRET_BYTES:
            # RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash, 256 bits.
            found.append(Problem(
                "JITSI_APP_SECRET",
                f"is {len(self.app_secret.encode('utf-8'))} bytes long: write at least {MIN_SECRET_BYTES} bytes "
                "(e.g. the output of openssl rand -hex 32), the same value as Prosody's app_secret",
            ))
        jaas = {
            "JITSI_JAAS_TENANT": (self.jaas_tenant, "the tenant vpaas-magic-cookie-<id> shown in the 8x8 JaaS console"),
            "JITSI_KID": (self.jaas_kid, "the key id <tenant>/<key id> of the key uploaded to 8x8"),
            "JITSI_PRIVATE_KEY": (self.jaas_private_key, "the RSA private key (PEM) whose public key is uploaded to 8x8"),
        }
        given = [key for key, (value, _) in jaas.items() if value]
        if given and len(given) < len(jaas):
            for key, (value, what) in jaas.items():
                if not value:
                    found.append(Problem(
                        key, f"is missing while {' and '.join(given)} {'is' if len(given) == 1 else 'are'} set "
                        f"(8x8 JaaS is half-configured): write {what}",
                    ))
        if self.jaas_tenant and not self.jaas_tenant.startswith(JAAS_TENANT_PREFIX):
            found.append(Problem(
                "JITSI_JAAS_TENANT",
                f"{self.jaas_tenant!r} is not a JaaS tenant: write {jaas['JITSI_JAAS_TENANT'][1]}",
            ))
        if self.jaas_tenant and self.jaas_kid and not self.jaas_kid.startswith(f"{self.jaas_tenant}/"):
            # JaaS rejects a kid that is not "<tenant>/<key id>" for the tenant in the URL.
            other = self.jaas_kid.split("/", 1)[0] if "/" in self.jaas_kid else ""
            wrong = f"is a key of another tenant ({other})" if other.startswith(JAAS_TENANT_PREFIX) else "has no tenant"
            found.append(Problem(
                "JITSI_KID",
                f"{self.jaas_kid!r} {wrong}: write it as '{self.jaas_tenant}/<key id>', the key id from the 8x8 console",
            ))
        if self.jaas_private_key:
            try:
                load_rsa_private_key(self.jaas_private_key)
            except ValueError as error:
                found.append(Problem("JITSI_PRIVATE_KEY", str(error)))
        if self.lobby and self.mode == "public":
            found.append(Problem(
                "JITSI_LOBBY",
                "is on, but unsigned links to a public server carry no token to say who waits in the lobby and "
                "who lets people in: set JITSI_APP_ID and JITSI_APP_SECRET for your own Jitsi with its lobby "
                "modules (docs/deploy.md), or write JITSI_LOBBY=0",
            ))
        if self.lobby and self.mode == "jaas":
            # 8x8's token documentation (developer.8x8.com/jaas/docs/api-keys-jwt) names no lobby
            # claim, and nothing documented starts a JaaS room with its lobby on.
            found.append(Problem(
                "JITSI_LOBBY",
                "is on, but 8x8 JaaS documents no token claim or room setting that starts a room with its lobby "
                "on, so the parties of a mediation would walk straight in: write JITSI_LOBBY=0 (their links then "
                "open at the start time, the mediator's before)",
            ))
        if self.grace < timedelta(0):
            found.append(Problem("JITSI_GRACE", "the grace period after a lesson cannot be negative"))
        return found

    def validate(self) -> None:
        """Raise ValueError naming the first setting that cannot work (problems() lists them all)."""
        found = self.problems()
        if found:
            raise ValueError(str(found[0]))


@dataclass(frozen=True)
class Problem:
    """A setting that cannot work: its key (as in the app's config) and what to write instead."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key} {self.message}"


@lru_cache(maxsize=4)
def load_rsa_private_key(pem: str) -> RSAPrivateKey:
    """Parse an unencrypted PEM RSA private key, raising ValueError if it is anything else."""
    try:
        key = load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        # TypeError is what cryptography raises for a passphrase-protected key.
        raise ValueError(
            f"is not an unencrypted PEM key ({error}): give the RSA private key 8x8 gave, without a passphrase"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("is not an RSA key: JaaS signs tokens with RS256, give the RSA private key 8x8 gave")
    return key


def _flag(mapping: Mapping[str, Any], key: str) -> bool:
    """A yes/no setting: True, or text such as "1" or "true" (as an environment variable gives it)."""
    value = mapping.get(key)
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def _text(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    return str(value).strip() or None
