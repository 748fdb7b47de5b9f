"""A local stand-in for Twilio delivering an incoming SMS to a webhook, posting what Twilio's
documentation says it posts: an application/x-www-form-urlencoded body with the incoming
message's parameters, signed in X-Twilio-Signature (base64 HMAC-SHA1 of the URL followed by the
parameters' names and values sorted by name, keyed with the account's auth token). It reads the
webhook's answer as Twilio reads TwiML (https://www.twilio.com/docs/messaging/twiml): each
<Message> of the <Response> is an SMS sent back to the sender, its text in <Body> or the
<Message> itself; an empty <Response></Response> sends nothing."""

import base64
import hashlib
import hmac
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from xml.etree import ElementTree

ACCOUNT_SID = "AC" + "0" * 32
TWILIO_NUMBER = "+33644630000"


def sent_back(twiml: str) -> list[str]:
    """The SMS Twilio sends to the sender for this TwiML answer."""
    root = ElementTree.fromstring(twiml.encode())  # bytes: the XML declaration names the encoding
    assert root.tag == "Response", twiml
    texts = []
    for message in root:
        assert message.tag == "Message", f"Twilio does not send <{message.tag}>"  # warning 14110
        body = message.find("Body")
        texts.append((body.text if body is not None else message.text) or "")
    return texts


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass
class FakeTwilio:
    webhook_url: str
    auth_token: str

    def message(self, from_number: str, body: str, message_sid: str | None = None) -> dict[str, str]:
        sid = message_sid or "SM" + secrets.token_hex(16)
        return {
            "ToCountry": "FR", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
            "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "",
            "Body": body, "FromCountry": "FR", "To": TWILIO_NUMBER, "ToZip": "", "NumSegments": "1",
            "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": from_number, "ApiVersion": "2010-04-01",
        }

    def post(self, params: dict[str, str], signature: str | None = None) -> tuple[int, str]:
        """POST the parameters as Twilio does; returns the status and the body of the answer."""
        body = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(self.webhook_url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "X-Twilio-Signature": signature if signature is not None else sign(self.auth_token, self.webhook_url, params),
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        })
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def deliver(self, from_number: str, body: str, message_sid: str | None = None) -> tuple[int, str]:
        return self.post(self.message(from_number, body, message_sid))

    def answers(self, from_number: str, body: str, message_sid: str | None = None) -> list[str]:
        """Deliver an SMS and return what Twilio would send back, from the webhook's TwiML."""
        status, twiml = self.deliver(from_number, body, message_sid)
        assert status == 200, (status, twiml)
        return sent_back(twiml)
