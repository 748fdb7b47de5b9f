import json
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from rooms import JitsiSettings, Participant, fragment_values, make_token, new_room_name, sign_join_url, verify_token

PARIS = ZoneInfo("Europe/Paris")
STARTS_AT = datetime(2030, 3, 4, 17, 0, tzinfo=PARIS)
ENDS_AT = STARTS_AT + timedelta(hours=1)
NOW = STARTS_AT - timedelta(minutes=10)
TIMES = {"starts_at": STARTS_AT, "ends_at": ENDS_AT, "now": NOW}
# The token's own clock checks are what verify_token tests; here only content is compared.
NO_CLOCK = {"verify_exp": False, "verify_nbf": False, "verify_iat": False}

SECRET = "correct-horse-battery-staple-for-lien"
SELF_HOSTED = JitsiSettings(domain="visio.example.org", app_id="lien", app_secret=SECRET)
TENANT = "vpaas-magic-cookie-abc123"
KID = f"{TENANT}/4f4910"
TUTOR = Participant(name="Mme Durand", moderator=True, email="durand@example.org", user_id="42")
STUDENT = Participant(name="Zoé")


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def room():
    return new_room_name()


@pytest.fixture
def self_hosted():
    return SELF_HOSTED


@pytest.fixture
def jaas(rsa_key):
    return JitsiSettings(jaas_tenant=TENANT, jaas_kid=KID, jaas_private_key=_pem(rsa_key))


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


# Self-hosted Jitsi, HS256


def test_a_self_hosted_token_carries_every_claim_prosody_checks(self_hosted, room):
    token = make_token(self_hosted, room, TUTOR, **TIMES)

    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(
        token, SECRET, algorithms=["HS256"], audience="jitsi", options=NO_CLOCK
    )
    assert claims == {
        "iss": "lien",
        "aud": "jitsi",
        "sub": "visio.example.org",
        "room": room,
        "iat": _seconds(NOW),
        "nbf": _seconds(NOW) - 60,
        "exp": _seconds(ENDS_AT + timedelta(minutes=5)),
        "context": {
            "user": {
                "name": "Mme Durand",
                "moderator": True,
                "email": "durand@example.org",
                "id": "42",
            },
            # Never recorded, streamed, transcribed or dialled out from, on a self-hosted server too.
            "features": {"livestreaming": "false", "recording": "false", "transcription": "false",
                         "outbound-call": "false"},
        },
    }


def test_a_student_is_not_a_moderator_and_unknown_details_are_left_out(self_hosted, room):
    token = make_token(self_hosted, room, STUDENT, **TIMES)
    claims = verify_token(self_hosted, token, room, now=NOW)
    assert claims["context"]["user"] == {"name": "Zoé", "moderator": False}


def test_a_self_hosted_link_opens_the_room_on_our_domain_with_the_token(self_hosted, room):
    url = urlsplit(sign_join_url(self_hosted, room, STUDENT, **TIMES))

    assert (url.scheme, url.netloc, url.path, url.query) == ("https", "visio.example.org", f"/{room}", "")
    # In the fragment, which browsers never send to a server (nor to its logs), as a JSON string:
    # jitsi-meet's parseJWTFromURLParams reads `jwt` there first, JSON-parsed (PR #14749, #14760).
    assert url.fragment.startswith("jwt=%22ey")
    token = fragment_values(url.geturl())["jwt"]
    assert verify_token(self_hosted, token, room, now=NOW)["room"] == room


def test_every_link_keeps_phones_in_the_browser_and_adds_the_overrides_asked_for(self_hosted, room):
    url = sign_join_url(self_hosted, room, STUDENT, **TIMES, overrides={"startAudioOnly": True, "resolution": 180})
    values = fragment_values(url)
    assert values["config.disableDeepLinking"] is True and values["config.deeplinking.disabled"] is True
    assert values["config.disableThirdPartyRequests"] is True
    assert (values["config.startAudioOnly"], values["config.resolution"]) == (True, 180)
    assert "config.startAudioOnly" not in fragment_values(sign_join_url(self_hosted, room, STUDENT, **TIMES))


def test_a_token_signed_with_another_secret_is_refused(self_hosted, room):
    guessed = replace(self_hosted, app_secret="a-guessed-secret-of-the-right-length")
    forged = make_token(guessed, room, TUTOR, **TIMES)
    with pytest.raises(jwt.InvalidSignatureError):
        verify_token(self_hosted, forged, room, now=NOW)


def test_a_token_for_one_room_is_refused_for_another(self_hosted, room):
    token = make_token(self_hosted, room, TUTOR, **TIMES)
    with pytest.raises(jwt.InvalidTokenError, match="room"):
        verify_token(self_hosted, token, new_room_name(), now=NOW)


def test_the_room_is_compared_lower_cased_as_prosody_does(self_hosted, room):
    token = make_token(self_hosted, room, TUTOR, **TIMES)
    assert verify_token(self_hosted, token, room.upper(), now=NOW)["room"] == room


def test_a_token_for_another_domain_is_refused(self_hosted, room):
    token = make_token(self_hosted, room, TUTOR, **TIMES)
    with pytest.raises(jwt.InvalidTokenError, match="sub"):
        verify_token(replace(self_hosted, domain="other.example.org"), token, room, now=NOW)


def test_a_token_from_another_app_is_refused(self_hosted, room):
    token = make_token(replace(self_hosted, app_id="other-app"), room, TUTOR, **TIMES)
    with pytest.raises(jwt.InvalidIssuerError):
        verify_token(self_hosted, token, room, now=NOW)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"aud": "someone-else"}, jwt.InvalidAudienceError),
        ({"exp": None}, jwt.MissingRequiredClaimError),
        ({"nbf": None}, jwt.MissingRequiredClaimError),
        ({"room": None}, jwt.MissingRequiredClaimError),
        ({"sub": None}, jwt.MissingRequiredClaimError),
    ],
    ids=["other-audience", "no-exp", "no-nbf", "no-room", "no-sub"],
)
def test_a_token_missing_or_changing_a_checked_claim_is_refused(self_hosted, room, change, error):
    claims = verify_token(self_hosted, make_token(self_hosted, room, TUTOR, **TIMES), room, now=NOW)
    claims |= change
    claims = {name: value for name, value in claims.items() if value is not None}
    tampered = jwt.encode(claims, self_hosted.app_secret, algorithm="HS256")
    with pytest.raises(error):
        verify_token(self_hosted, tampered, room, now=NOW)


@pytest.mark.parametrize(("key", "algorithm"), [(SECRET * 2, "HS512"), (None, "none")])
def test_a_token_cannot_choose_its_own_algorithm(self_hosted, room, key, algorithm):
    claims = verify_token(self_hosted, make_token(self_hosted, room, TUTOR, **TIMES), room, now=NOW)
    token = jwt.encode(claims, key, algorithm=algorithm)
    with pytest.raises(jwt.InvalidAlgorithmError):
        verify_token(self_hosted, token, room, now=NOW)


def test_a_token_whose_header_is_not_typed_jwt_is_refused(self_hosted, room):
    claims = verify_token(self_hosted, make_token(self_hosted, room, TUTOR, **TIMES), room, now=NOW)
    token = jwt.encode(claims, self_hosted.app_secret, algorithm="HS256", headers={"typ": "at+jwt"})
    with pytest.raises(jwt.InvalidTokenError, match="typ"):
        verify_token(self_hosted, token, room, now=NOW)


# Validity in time, always against an explicit `now`


def test_a_token_already_works_on_a_server_whose_clock_is_a_little_behind(self_hosted, room):
    token = make_token(self_hosted, room, TUTOR, **TIMES)
    verify_token(self_hosted, token, room, now=NOW - timedelta(minutes=1))
    with pytest.raises(jwt.ImmatureSignatureError):
        verify_token(self_hosted, token, room, now=NOW - timedelta(minutes=1, seconds=1))


def test_a_token_lasts_until_the_end_of_the_lesson_plus_the_grace_period(self_hosted, room):
    settings = replace(self_hosted, grace=timedelta(minutes=15))
    token = make_token(settings, room, TUTOR, **TIMES)
    verify_token(settings, token, room, now=ENDS_AT + timedelta(minutes=15) - timedelta(seconds=1))
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_token(settings, token, room, now=ENDS_AT + timedelta(minutes=15))


def test_verifying_without_a_time_uses_the_clock(self_hosted, room):
    # The lesson is in 2030, so today the token is not valid yet.
    token = make_token(self_hosted, room, TUTOR, **TIMES)
    with pytest.raises(jwt.ImmatureSignatureError):
        verify_token(self_hosted, token, room)


# A self-hosted server with a lobby (jitsi-contrib/prosody-plugins' lobby_autostart with
# token_lobby_bypass, or token_lobby_ondemand): each reads a boolean in `context.user`.


def test_without_a_lobby_a_token_says_nothing_about_one(self_hosted, room):
    party = Participant(name="Fatima Haddou", waits_in_lobby=True)
    claims = verify_token(self_hosted, make_token(self_hosted, room, party, **TIMES), room, now=NOW)
    assert claims["context"]["user"] == {"name": "Fatima Haddou", "moderator": False}


def test_with_a_lobby_the_moderator_goes_past_it_and_a_party_waits_in_it(self_hosted, room):
    with_lobby = replace(self_hosted, lobby=True)
    mediator = Participant(name="Ousmane Diallo", moderator=True)
    party = Participant(name="Fatima Haddou", waits_in_lobby=True)

    def user(who):
        return verify_token(with_lobby, make_token(with_lobby, room, who, **TIMES), room, now=NOW)["context"]["user"]

    # Booleans, not strings: both modules compare with Lua's true.
    assert user(mediator) == {"name": "Ousmane Diallo", "moderator": True, "lobby_bypass": True}
    assert user(party) == {"name": "Fatima Haddou", "moderator": False, "lobby_bypass": False, "lobby": True}
    # Everyone else (a homework session's family) goes past the lobby that lobby_autostart opens everywhere.
    assert user(STUDENT) == {"name": "Zoé", "moderator": False, "lobby_bypass": True}


def test_a_moderator_cannot_be_made_to_wait_in_the_lobby(self_hosted, room):
    with pytest.raises(ValueError, match="nobody else could let people in"):
        make_token(replace(self_hosted, lobby=True), room,
                   Participant(name="Ousmane Diallo", moderator=True, waits_in_lobby=True), **TIMES)


# 8x8 JaaS, RS256


def test_a_jaas_token_carries_the_claims_8x8_expects_signed_by_our_key(jaas, rsa_key, room):
    token = make_token(jaas, room, TUTOR, **TIMES)

    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": KID}
    claims = jwt.decode(
        token, rsa_key.public_key(), algorithms=["RS256"], audience="jitsi", options=NO_CLOCK
    )
    assert claims == {
        "iss": "chat",
        "aud": "jitsi",
        "sub": TENANT,
        "room": room,
        "iat": _seconds(NOW),
        "nbf": _seconds(NOW) - 60,
        "exp": _seconds(ENDS_AT + timedelta(minutes=5)),
        "context": {
            "user": {
                "name": "Mme Durand",
                "moderator": "true",
                "email": "durand@example.org",
                "id": "42",
            },
            "features": {
                "livestreaming": "false",
                "recording": "false",
                "transcription": "false",
                "outbound-call": "false",
            },
        },
    }


def test_a_jaas_student_is_not_a_moderator_in_jaas_string_form(jaas, room):
    claims = verify_token(jaas, make_token(jaas, room, STUDENT, **TIMES), room, now=NOW)
    assert claims["context"]["user"] == {"name": "Zoé", "moderator": "false"}


def test_a_jaas_link_opens_the_room_under_the_tenant_on_8x8(jaas, room):
    url = urlsplit(sign_join_url(jaas, room, STUDENT, **TIMES))

    assert (url.scheme, url.netloc, url.path, url.query) == ("https", "8x8.vc", f"/{TENANT}/{room}", "")
    token = fragment_values(url.geturl())["jwt"]
    assert verify_token(jaas, token, room, now=NOW)["sub"] == TENANT


def test_a_jaas_token_signed_with_another_key_is_refused(jaas, room):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = make_token(replace(jaas, jaas_private_key=_pem(other_key)), room, TUTOR, **TIMES)
    with pytest.raises(jwt.InvalidSignatureError):
        verify_token(jaas, forged, room, now=NOW)


def test_a_jaas_token_naming_another_key_id_is_refused(jaas, room):
    token = make_token(replace(jaas, jaas_kid=f"{TENANT}/0ld0ne"), room, TUTOR, **TIMES)
    with pytest.raises(jwt.InvalidTokenError, match="kid"):
        verify_token(jaas, token, room, now=NOW)


def test_a_jaas_token_for_one_room_is_refused_for_another(jaas, room):
    token = make_token(jaas, room, TUTOR, **TIMES)
    with pytest.raises(jwt.InvalidTokenError, match="room"):
        verify_token(jaas, token, new_room_name(), now=NOW)


# Public meet.jit.si, no token


def test_a_public_link_has_no_token_and_presets_the_display_name(room):
    student = Participant(name='Zoé "Zozo" & Léa #2')
    url = urlsplit(sign_join_url(JitsiSettings(), room, student, **TIMES))

    assert make_token(JitsiSettings(), room, student, **TIMES) is None
    assert (url.scheme, url.netloc, url.path, url.query) == ("https", "meet.jit.si", f"/{room}", "")
    key, _, value = url.fragment.split("&")[0].partition("=")
    assert key == "userInfo.displayName"
    assert "#" not in value and "&" not in value and '"' not in value
    assert json.loads(unquote(value)) == student.name
    assert "jwt" not in fragment_values(url.geturl())


def test_nothing_verifies_a_token_in_public_mode(self_hosted, room):
    token = make_token(self_hosted, room, TUTOR, **TIMES)
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(JitsiSettings(), token, room, now=NOW)


# What is refused before anything is signed


@pytest.mark.parametrize("which", ["starts_at", "ends_at", "now"])
@pytest.mark.parametrize("settings", [JitsiSettings(), SELF_HOSTED], ids=["public", "hs256"])
def test_naive_times_are_refused(settings, room, which):
    times = TIMES | {which: TIMES[which].replace(tzinfo=None)}
    with pytest.raises(ValueError, match=f"{which} must be timezone-aware"):
        sign_join_url(settings, room, STUDENT, **times)


@pytest.mark.parametrize("ends_at", [STARTS_AT, STARTS_AT - timedelta(minutes=1)])
def test_a_lesson_that_does_not_end_after_it_starts_is_refused(self_hosted, room, ends_at):
    with pytest.raises(ValueError, match="end after it starts"):
        make_token(self_hosted, room, TUTOR, starts_at=STARTS_AT, ends_at=ends_at, now=NOW)


@pytest.mark.parametrize(
    "bad_room", ["Maths", "maths-zoe", "maths_zoe", "", "café", "a/b", "room?x=1", "room\n"]
)
@pytest.mark.parametrize("settings", [JitsiSettings(), SELF_HOSTED], ids=["public", "hs256"])
def test_room_names_jitsi_would_alter_are_refused(settings, bad_room):
    with pytest.raises(ValueError, match="lowercase letters and digits"):
        sign_join_url(settings, bad_room, STUDENT, **TIMES)


def test_a_half_configured_setup_refuses_to_sign_rather_than_fall_back_to_public_links(room):
    with pytest.raises(ValueError, match="JITSI_APP_SECRET is missing"):
        sign_join_url(JitsiSettings(app_id="lien"), room, TUTOR, **TIMES)
