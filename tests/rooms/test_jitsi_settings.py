from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from rooms import JitsiSettings

SECRET = "correct-horse-battery-staple-for-lien"
TENANT = "vpaas-magic-cookie-abc123"
KID = f"{TENANT}/4f4910"


def _pem(key, encryption=None) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        encryption or serialization.NoEncryption(),
    ).decode("ascii")


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rsa_pem(rsa_key):
    return _pem(rsa_key)


def test_nothing_configured_means_public_unsigned_links():
    settings = JitsiSettings()
    settings.validate()
    assert settings.mode == "public"
    assert settings.domain == "meet.jit.si"


def test_an_app_id_and_secret_mean_self_hosted_token_auth():
    settings = JitsiSettings(domain="visio.example.org", app_id="lien", app_secret=SECRET)
    settings.validate()
    assert settings.mode == "hs256"


def test_a_complete_jaas_setup_wins_over_an_app_secret(rsa_pem):
    settings = JitsiSettings(
        app_id="lien", app_secret=SECRET, jaas_tenant=TENANT, jaas_kid=KID, jaas_private_key=rsa_pem
    )
    settings.validate()
    assert settings.mode == "jaas"


@pytest.mark.parametrize(("value", "lobby"), [(True, True), ("1", True), ("true", True), (False, False),
                                              ("0", False), ("", False), (None, False)])
def test_the_lobby_is_read_from_the_app_config_or_its_environment_text(value, lobby):
    assert JitsiSettings.from_mapping({"JITSI_LOBBY": value}).lobby is lobby


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "JITSI_LOBBY is on, but unsigned links to a public server carry no token"),
    ({"jaas": True}, "JITSI_LOBBY is on, but 8x8 JaaS documents no token claim or room setting"),
])
def test_a_lobby_nothing_can_start_is_refused(fields, message, rsa_pem):
    jaas = {"jaas_tenant": TENANT, "jaas_kid": KID, "jaas_private_key": rsa_pem} if fields.pop("jaas", False) else {}
    with pytest.raises(ValueError, match=message):
        JitsiSettings(lobby=True, **jaas, **fields).validate()


def test_a_lobby_on_a_self_hosted_server_is_accepted():
    JitsiSettings(domain="visio.example.org", app_id="lien", app_secret=SECRET, lobby=True).validate()


def test_settings_are_read_from_the_app_config(rsa_pem):
    settings = JitsiSettings.from_mapping(
        {
            "JITSI_DOMAIN": "visio.example.org",
            "JITSI_APP_ID": "lien",
            "JITSI_APP_SECRET": SECRET,
            "JITSI_JAAS_TENANT": TENANT,
            "JITSI_KID": KID,
            "JITSI_PRIVATE_KEY": rsa_pem,
            "SECRET_KEY": "not ours",
        }
    )
    assert settings == JitsiSettings(
        domain="visio.example.org",
        app_id="lien",
        app_secret=SECRET,
        jaas_tenant=TENANT,
        jaas_kid=KID,
        jaas_private_key=rsa_pem.strip(),
    )


def test_empty_config_values_count_as_unset():
    settings = JitsiSettings.from_mapping(
        {"JITSI_DOMAIN": "", "JITSI_APP_ID": " ", "JITSI_KID": None}
    )
    assert settings == JitsiSettings()


def test_a_private_key_pasted_on_one_line_with_escaped_newlines_still_loads(rsa_pem):
    one_line = rsa_pem.replace("\n", "\\n")
    settings = JitsiSettings.from_mapping(
        {"JITSI_JAAS_TENANT": TENANT, "JITSI_KID": KID, "JITSI_PRIVATE_KEY": one_line}
    )
    settings.validate()
    assert settings.jaas_private_key == rsa_pem.strip()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"app_id": "lien"}, "JITSI_APP_SECRET is missing while JITSI_APP_ID is set"),
        ({"app_secret": SECRET}, "JITSI_APP_ID is missing while JITSI_APP_SECRET is set"),
        ({"app_id": "lien", "app_secret": "s3cret"}, "is 6 bytes long: write at least 32 bytes"),
        ({"grace": timedelta(minutes=-1)}, "cannot be negative"),
        ({"jaas_tenant": TENANT}, "JITSI_KID is missing while JITSI_JAAS_TENANT is set"),
        ({"jaas_tenant": TENANT, "jaas_kid": KID}, "JITSI_PRIVATE_KEY is missing while JITSI_JAAS_TENANT and JITSI_KID are set"),
        ({"jaas_kid": KID, "jaas_private_key": "PEM"}, "JITSI_JAAS_TENANT is missing"),
        ({"domain": "https://meet.example.org"}, "bare host name"),
        ({"domain": ""}, "bare host name"),
    ],
)
def test_a_half_configuration_is_refused_with_a_clear_message(fields, message):
    with pytest.raises(ValueError, match=message):
        JitsiSettings(**fields).validate()


def test_a_kid_from_another_tenant_is_refused(rsa_pem):
    settings = JitsiSettings(
        jaas_tenant=TENANT, jaas_kid="vpaas-magic-cookie-other/4f4910", jaas_private_key=rsa_pem
    )
    with pytest.raises(ValueError, match="JITSI_KID 'vpaas-magic-cookie-other/4f4910' is a key of another tenant"):
        settings.validate()


def test_every_problem_is_listed_not_only_the_first():
    settings = JitsiSettings(domain="https://meet.example.org", app_id="lien", app_secret="short",
                             jaas_tenant="abc123", jaas_kid="vpaas-magic-cookie-other/1")
    keys = [problem.key for problem in settings.problems()]
    assert keys == ["JITSI_DOMAIN", "JITSI_APP_SECRET", "JITSI_PRIVATE_KEY", "JITSI_JAAS_TENANT", "JITSI_KID"]
    assert all(" write " in problem.message for problem in settings.problems())


@pytest.mark.parametrize(
    "make_pem",
    [
        lambda: "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
        lambda: _pem(ec.generate_private_key(ec.SECP256R1())),
        lambda: _pem(
            rsa.generate_private_key(public_exponent=65537, key_size=2048),
            serialization.BestAvailableEncryption(b"passphrase"),
        ),
    ],
    ids=["garbage", "not-rsa", "passphrase-protected"],
)
def test_a_private_key_jaas_cannot_use_is_refused(make_pem):
    settings = JitsiSettings(jaas_tenant=TENANT, jaas_kid=KID, jaas_private_key=make_pem())
    with pytest.raises(ValueError, match="JITSI_PRIVATE_KEY"):
        settings.validate()
