"""Join links and the JSON Web Tokens that let Jitsi admit the right person to the right room."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

import jwt

from .names import check_room_name
from .settings import JitsiSettings, load_rsa_private_key

AUDIENCE = "jitsi"  # Prosody accepts any `aud` by default; "jitsi" is the convention JaaS requires.
JAAS_HOST = "8x8.vc"
JAAS_ISSUER = "chat"  # JaaS only accepts tokens issued by "chat".
# Prosody checks `nbf` with no clock leeway, so a server a few seconds behind ours would
# refuse a token that is valid "from now"; start it a minute in the past.
NOT_BEFORE_SKEW = timedelta(minutes=1)
# Lessons with children are never streamed, recorded or transcribed, and nobody dials out to a
# phone from them. Both modes carry them: JaaS reads them (as strings), and so do jitsi-meet's web
# app and, on a self-hosted server, Prosody's filter_iq_jibri and filter_iq_rayo modules.
FEATURES = {
    "livestreaming": "false",
    "recording": "false",
    "transcription": "false",
    "outbound-call": "false",
}
JAAS_FEATURES = FEATURES
# Jitsi config overrides on every link: phones stay in the browser rather than being sent to an
# app store (`deeplinking.disabled`, and its older name), and the room asks no third party
# (gravatar and the like) about the people in it.
ALWAYS = {"disableDeepLinking": True, "deeplinking.disabled": True, "disableThirdPartyRequests": True}
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "room", "iat", "nbf", "exp"]


@dataclass(frozen=True)
class Participant:
    """Who the link is for, as Jitsi will show them; `moderator` lets them admit and mute others.

    `waits_in_lobby`: on a server with a lobby (JitsiSettings.lobby), they wait there until a
    moderator lets them in; everyone else goes past it."""

    name: str
    moderator: bool = False
    email: str | None = None
    user_id: str | None = None
    waits_in_lobby: bool = False


def make_token(
    settings: JitsiSettings,
    room: str,
    participant: Participant,
    *,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> str | None:
    """Sign a token for one participant in one room until `ends_at` plus the grace period.

    Returns None in public mode, where Jitsi takes no token."""
    settings.validate()
    check_room_name(room)
    _check_aware(starts_at=starts_at, ends_at=ends_at, now=now)
    if ends_at <= starts_at:
        raise ValueError(f"a lesson must end after it starts: {starts_at} .. {ends_at}")
    if participant.moderator and participant.waits_in_lobby:
        raise ValueError("a moderator cannot wait in the lobby: nobody else could let people in")
    mode = settings.mode
    if mode == "public":
        return None

    user: dict[str, Any] = {"name": participant.name}
    if participant.email:
        user["email"] = participant.email
    if participant.user_id:
        user["id"] = participant.user_id
    claims: dict[str, Any] = {
        "aud": AUDIENCE,
        "room": room,
        "iat": _seconds(now),
        "nbf": _seconds(now - NOT_BEFORE_SKEW),
        # Always set: Prosody lets a token without `exp` in forever.
        "exp": _seconds(ends_at + settings.grace),
    }
    if mode == "hs256":
        # Self-hosted: `iss` must be the app id and `sub` the domain for https://DOMAIN/ROOM links.
        assert settings.app_secret is not None  # guaranteed by mode; tells the type checker
        user["moderator"] = participant.moderator
        if settings.lobby:
            user |= _lobby_claims(participant)
        claims |= {"iss": settings.app_id, "sub": settings.domain,
                   "context": {"user": user, "features": dict(FEATURES)}}
        return jwt.encode(claims, settings.app_secret, algorithm="HS256", headers={"typ": "JWT"})

    # JaaS: `sub` is the tenant of https://8x8.vc/TENANT/ROOM, `room` stays the bare name,
    # and the moderator flag is the string "true"/"false".
    assert settings.jaas_private_key is not None  # guaranteed by mode
    user["moderator"] = "true" if participant.moderator else "false"
    claims |= {
        "iss": JAAS_ISSUER,
        "sub": settings.jaas_tenant,
        "context": {"user": user, "features": dict(FEATURES)},
    }
    return jwt.encode(
        claims,
        load_rsa_private_key(settings.jaas_private_key),
        algorithm="RS256",
        headers={"typ": "JWT", "kid": settings.jaas_kid},
    )


def _lobby_claims(participant: Participant) -> dict[str, bool]:
    """What tells a self-hosted server's lobby modules to hold this person or let them past.

    Both read `context.user` (jitsi-contrib/prosody-plugins, README of each): token_lobby_bypass lets
    `lobby_bypass: true` past the lobby that lobby_autostart opens in every room, and
    token_lobby_ondemand opens the lobby for `lobby: true` and lets everyone else past it. Both
    compare with the boolean true, so these stay booleans. A moderator must go past too: Jitsi's
    token_affiliation makes them owner only once they are past (it skips anyone the lobby holds)."""
    if participant.waits_in_lobby:
        return {"lobby_bypass": False, "lobby": True}
    return {"lobby_bypass": True}


def sign_join_url(
    settings: JitsiSettings,
    room: str,
    participant: Participant,
    *,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    overrides: Mapping[str, Any] | None = None,
) -> str:
    """Return the URL that opens `room` for `participant`, signed unless in public mode.

    Everything after the room goes in the fragment (`#…`), which browsers never send to a
    server, so the token stays out of web servers' logs: jitsi-meet's web app reads `jwt` from
    the fragment first (as a JSON string), then from the query. `overrides` are Jitsi config
    settings for this link (e.g. {"startAudioOnly": True}), on top of ALWAYS."""
    token = make_token(settings, room, participant, starts_at=starts_at, ends_at=ends_at, now=now)
    entries: list[tuple[str, Any]] = []
    if token is not None:
        entries.append(("jwt", token))
    else:
        # Without a token the name is preset by a config override.
        entries.append(("userInfo.displayName", participant.name))
    entries += [(f"config.{key}", value) for key, value in {**ALWAYS, **(overrides or {})}.items()]
    fragment = "&".join(f"{key}={_json_value(value)}" for key, value in entries)
    if settings.mode == "jaas":
        return f"https://{JAAS_HOST}/{settings.jaas_tenant}/{room}#{fragment}"
    return f"https://{settings.domain}/{room}#{fragment}"


def fragment_values(url: str) -> dict[str, Any]:
    """The fragment of a join URL read back as jitsi-meet reads it: `key=` URL-encoded JSON."""
    values: dict[str, Any] = {}
    for part in url.partition("#")[2].split("&"):
        key, _, value = part.partition("=")
        if key:
            values[key] = json.loads(unquote(value))
    return values


def _json_value(value: Any) -> str:
    # Jitsi JSON-parses each value after URL-decoding it; quote everything, "&" and "=" included.
    return quote(json.dumps(value, ensure_ascii=False, separators=(",", ":")), safe="")


def verify_token(
    settings: JitsiSettings, token: str, room: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """Check `token` for `room` the way Jitsi would and return its claims.

    Raises a jwt.InvalidTokenError subclass on any failure; `now` defaults to the clock."""
    settings.validate()
    mode = settings.mode
    if mode == "public":
        raise jwt.InvalidTokenError("public Jitsi rooms take no token; nothing can verify one")
    key: Any
    issuer: str | None
    subject: str | None
    if mode == "hs256":
        key, algorithm = settings.app_secret, "HS256"
        issuer, subject = settings.app_id, settings.domain
    else:
        assert settings.jaas_private_key is not None  # guaranteed by mode
        key, algorithm = load_rsa_private_key(settings.jaas_private_key).public_key(), "RS256"
        issuer, subject = JAAS_ISSUER, settings.jaas_tenant
    # Time is checked below against `now`, so PyJWT's own clock checks are turned off.
    decoded = jwt.decode_complete(
        token,
        key,
        algorithms=[algorithm],  # pinned: a token cannot choose its own algorithm
        audience=AUDIENCE,
        issuer=issuer,
        options={
            "require": _REQUIRED_CLAIMS,
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
        },
    )
    header, claims = decoded["header"], dict(decoded["payload"])
    if header.get("typ") != "JWT":
        raise jwt.InvalidTokenError(f"header typ must be 'JWT', got {header.get('typ')!r}")
    if mode == "jaas" and header.get("kid") != settings.jaas_kid:
        raise jwt.InvalidTokenError(f"header kid {header.get('kid')!r} is not our JITSI_KID")

    now = now or datetime.now(UTC)
    _check_aware(now=now)
    moment = now.timestamp()
    # Like Prosody, no leeway either way.
    if moment >= claims["exp"]:
        raise jwt.ExpiredSignatureError("the token has expired")
    if moment < claims["nbf"]:
        raise jwt.ImmatureSignatureError("the token is not valid yet (nbf)")
    if str(claims["sub"]).lower() != str(subject).lower():
        raise jwt.InvalidTokenError(f"token sub {claims['sub']!r} is not {subject!r}")
    # Prosody lower-cases the room from the URL before comparing; Jitsi would also take "*",
    # but Lien never issues wildcard tokens, so this stricter check refuses them.
    if str(claims["room"]).lower() != room.lower():
        raise jwt.InvalidTokenError(f"token is for room {claims['room']!r}, not {room!r}")
    return claims


def _check_aware(**moments: datetime) -> None:
    for label, moment in moments.items():
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{label} must be timezone-aware, got naive {moment.isoformat()}")


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())
