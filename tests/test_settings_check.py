"""Settings checked before the first lesson: `flask check` names every broken Jitsi, mail and SMS
setting with what to write, production refuses to start on them, /health says when messages
would only go to the log."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scheduler_app import config, create_app
from scheduler_app.checks import Problem, channel_refusal, problems, warnings

ROOT = Path(__file__).resolve().parent.parent
TENANT = "vpaas-magic-cookie-abc123"
SECRET = "a-jitsi-secret-that-is-long-enough-for-hs256"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("jaas") / "jaas.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return str(path)


def settings(**environment) -> dict:
    """The app's settings from these environment variables, as create_app reads them."""
    found = config.defaults()
    found.update(config.from_environment(environment))
    config.derive(found, "/tmp/instance")
    return found


@pytest.mark.parametrize(("environment", "variable", "says"), [
    ({"JITSI_APP_ID": "lien", "JITSI_APP_SECRET": "s3cret"}, "JITSI_APP_SECRET",
     "is 6 bytes long: write at least 32 bytes"),
    ({"JITSI_APP_ID": "lien"}, "JITSI_APP_SECRET", "is missing while JITSI_APP_ID is set: write the app_secret"),
    ({"JITSI_APP_SECRET": SECRET}, "JITSI_APP_ID", "is missing while JITSI_APP_SECRET is set: write the app_id"),
    ({"JITSI_JAAS_TENANT": TENANT, "JITSI_KID": f"{TENANT}/4f4910"}, "JITSI_PRIVATE_KEY_FILE",
     "is missing while JITSI_JAAS_TENANT and JITSI_KID are set (8x8 JaaS is half-configured): write the RSA"),
    ({"JITSI_JAAS_TENANT": TENANT, "JITSI_KID": "vpaas-magic-cookie-other/4f4910", "key": True}, "JITSI_KID",
     "'vpaas-magic-cookie-other/4f4910' is a key of another tenant (vpaas-magic-cookie-other): write it as "
     f"'{TENANT}/<key id>'"),
    ({"JITSI_JAAS_TENANT": "abc123", "JITSI_KID": "abc123/4f4910", "key": True}, "JITSI_JAAS_TENANT",
     "'abc123' is not a JaaS tenant: write the tenant vpaas-magic-cookie-<id>"),
    ({"JITSI_DOMAIN": "https://meet.example.org"}, "JITSI_DOMAIN",
     "'https://meet.example.org' is not a bare host name: write only the host, such as meet.example.org"),
    ({"JITSI_LOBBY": "1"}, "JITSI_LOBBY",
     "is on, but unsigned links to a public server carry no token to say who waits in the lobby"),
    ({"JITSI_LOBBY": "1", "JITSI_JAAS_TENANT": TENANT, "JITSI_KID": f"{TENANT}/4f4910", "key": True}, "JITSI_LOBBY",
     "is on, but 8x8 JaaS documents no token claim or room setting that starts a room with its lobby on"),
    ({"JITSI_LOBBY": "1", "JITSI_APP_ID": "lien", "JITSI_APP_SECRET": SECRET}, "JITSI_LOBBY",
     "is on while JITSI_MODERATOR_FROM_TOKEN is off: Jicofo then makes the first person in a room its moderator"),
    ({"JITSI_DIAL_IN_NUMBERS_URL": "https://jitsi.example.org/phoneNumberList"}, "JITSI_DIAL_IN_CODE_URL",
     "is missing while JITSI_DIAL_IN_NUMBERS_URL is set: write the address your Jitsi's config.js gives"),
    ({"JOIN_OPENS_MINUTES_FAMILY": "20"}, "JOIN_OPENS_MINUTES_FAMILY",
     "is 20, more than JOIN_OPENS_MINUTES_TUTOR (15): families would be in the room before the tutor"),
    ({"MAIL_FROM": "lien"}, "MAIL_FROM", "'lien' has no email address: write e.g."),
    ({"SMTP_HOST": "smtp.example.org", "SMTP_USERNAME": "lien"}, "SMTP_PASSWORD",
     "is missing while SMTP_USERNAME is set"),
    ({"SMTP_HOST": "smtp.example.org", "SMTP_USERNAME": "lien", "SMTP_PASSWORD": "x"}, "SMTP_SECURITY",
     "is none, so SMTP_PASSWORD would cross the network to smtp.example.org in clear: write starttls"),
    ({"SMTP_HOST": "smtp.example.org", "SMTP_SECURITY": "ssl", "SMTP_PORT": "587"}, "SMTP_SECURITY",
     "is ssl but SMTP_PORT is 587, the STARTTLS port: write SMTP_SECURITY=starttls, or SMTP_PORT=465"),
    ({"SMS_PROVIDER": "brevo", "SMS_SENDER": "Lien"}, "SMS_BREVO_API_KEY", "is missing while SMS_PROVIDER is brevo"),
    ({"SMS_PROVIDER": "brevo", "SMS_BREVO_API_KEY": "k", "SMS_SENDER": "Centre Lien"}, "SMS_SENDER",
     "'Centre Lien' is not a sender name: write up to 11 letters and digits"),
    ({"SMS_BREVO_WEBHOOK_SECRET": "brevo"}, "SMS_BREVO_WEBHOOK_SECRET",
     "is 5 characters long: write at least 24, e.g. the output of python3"),
])
def test_each_broken_setting_is_named_with_what_to_write(environment, variable, says, key_file):
    if environment.pop("key", False):
        environment["JITSI_PRIVATE_KEY_FILE"] = key_file
    found = problems(settings(**environment), production=False)
    assert [str(problem) for problem in found if problem.variable == variable][0].startswith(f"{variable} {says}")


def test_good_settings_have_no_problem(key_file):
    assert problems(settings(JITSI_JAAS_TENANT=TENANT, JITSI_KID=f"{TENANT}/4f4910",
                             JITSI_PRIVATE_KEY_FILE=key_file, SMTP_HOST="smtp.example.org",
                             SMTP_SECURITY="starttls", SMTP_USERNAME="lien", SMTP_PASSWORD="x",
                             SMS_PROVIDER="brevo", SMS_BREVO_API_KEY="k", SMS_SENDER="CentreLien",
                             SMS_BREVO_WEBHOOK_SECRET="x" * 24, SECRET_KEY="a-real-secret"), production=True) == []


def test_a_rule_only_the_channel_knows_is_named_too():
    # Mail and SMS alike: what their channel refuses and these checks do not know yet.
    def refusing(_config):
        raise ValueError("a rule of the channel")

    assert channel_refusal({"MAIL_PROVIDER": "smtp"}, "MAIL_PROVIDER", refusing) == [
        Problem("MAIL_PROVIDER", "smtp cannot be used: a rule of the channel")]
    assert channel_refusal({"SMS_PROVIDER": "brevo"}, "SMS_PROVIDER", refusing) == [
        Problem("SMS_PROVIDER", "brevo cannot be used: a rule of the channel")]
    assert channel_refusal({"SMS_PROVIDER": "brevo"}, "SMS_PROVIDER", lambda _config: object()) == []


def test_a_lobby_on_a_self_hosted_jitsi_that_follows_the_tokens_moderator_flag_is_accepted():
    assert problems(settings(JITSI_LOBBY="1", JITSI_APP_ID="lien", JITSI_APP_SECRET=SECRET,
                             JITSI_MODERATOR_FROM_TOKEN="1"), production=False) == []


def test_production_refuses_to_start_listing_every_problem(monkeypatch):
    for setting in config.SETTINGS:
        monkeypatch.delenv(setting.environment_variable, raising=False)
    monkeypatch.setenv("SMS_PROVIDER", "brevo")
    monkeypatch.setenv("JITSI_APP_ID", "lien")
    with pytest.raises(RuntimeError) as refused:
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "a-real-secret"})
    message = str(refused.value)
    assert message.startswith("Lien cannot start with these settings:\n")
    for variable in ("JITSI_APP_SECRET", "SMS_BREVO_API_KEY", "SMS_SENDER"):
        assert f"\n  - {variable} is missing" in message
    # Outside production only Jitsi's stop the start (a join link would fail), not mail or SMS.
    monkeypatch.delenv("JITSI_APP_ID")
    assert create_app({"DATABASE_URL": "sqlite://", "TESTING": True})


def flask_check(tmp_path, **environment) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if key not in {setting.environment_variable for setting in config.SETTINGS} | {"FLASK_DEBUG"}}
    env |= {"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'lien.sqlite3'}", **environment}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "scheduler_app", "check"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_check_command_lists_problems_that_would_stop_the_start(tmp_path):
    checked = flask_check(tmp_path, JITSI_DOMAIN="https://meet.example.org", JITSI_APP_ID="lien",
                          JITSI_APP_SECRET="short", SMS_PROVIDER="brevo")
    assert checked.returncode == 1, checked.stderr
    lines = checked.stdout.splitlines()
    assert lines[0].startswith("problem: SECRET_KEY is not set: write a long random value")
    assert [line.split()[1] for line in lines if line.startswith("problem:")] == [
        "SECRET_KEY", "JITSI_DOMAIN", "JITSI_APP_SECRET", "SMS_BREVO_API_KEY", "SMS_SENDER"]
    assert "warning: MAIL_PROVIDER is console: emails are only written to the log" in checked.stdout
    assert lines[-1] == "5 setting(s) to change: Lien refuses to start in production until they are fixed."


def test_the_check_command_passes_good_settings_and_warns_about_the_public_jitsi(tmp_path):
    checked = flask_check(tmp_path, SECRET_KEY="a-real-secret", SMTP_HOST="smtp.example.org",
                          SMS_PROVIDER="brevo", SMS_BREVO_API_KEY="k", SMS_SENDER="CentreLien")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == [
        f"warning: {warnings(settings())[-1]}.", "Settings checked: Lien can start."]
    assert "nobody from Lien can be moderator" in checked.stdout


def test_health_is_degraded_in_production_when_messages_only_go_to_the_log(app, client):
    assert client.get("/health").get_json()["status"] == "ok"  # tests are not production
    app.config["TESTING"] = False
    answer = client.get("/health").get_json()
    assert answer["status"] == "degraded"
    assert [reason.split(" is ")[0] for reason in answer["reasons"]] == ["MAIL_PROVIDER", "SMS_PROVIDER"]
    app.config |= {"MAIL_PROVIDER": "smtp", "SMS_PROVIDER": "brevo"}
    assert client.get("/health").get_json()["status"] == "ok"
