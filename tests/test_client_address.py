"""The client's address behind a load balancer (issue 7, "Scaling out"): the audit log and
the per-address limits see the client, not the proxy, and only a trusted proxy's
X-Forwarded-For is believed."""

import os
import subprocess
import sys

import pytest
from django.test import Client, RequestFactory

from rencai.audit.models import AuditEntry
from rencai.audit.services import client_ip
from tests.security.test_accounts import CAPTCHA, TOO_MANY, users  # noqa: F401 (fixture)

PROXIES = ["10.0.0.0/24", "192.0.2.10"]


def address(settings, remote, forwarded=None, proxies=PROXIES):
    settings.RENCAI_TRUSTED_PROXIES = proxies
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # a client straight in: its header is its own word, never believed
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),
        # one trusted proxy
        ("10.0.0.5", "203.0.113.7", "203.0.113.7"),
        # the client wrote a header of its own; the proxy appended the real address
        ("10.0.0.5", "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        # two proxies (an outer one at 192.0.2.10), both trusted
        ("10.0.0.5", "198.51.100.1, 203.0.113.7, 192.0.2.10", "203.0.113.7"),
        # ports and IPv6 as some proxies write them
        ("10.0.0.5", "203.0.113.7:4711", "203.0.113.7"),
        ("10.0.0.5", "[2001:db8::7]:4711", "2001:db8::7"),
        ("10.0.0.5", "2001:db8::7", "2001:db8::7"),
        # no header, an empty one, or garbage where the proxy's entry should be
        ("10.0.0.5", None, "10.0.0.5"),
        ("10.0.0.5", "", "10.0.0.5"),
        ("10.0.0.5", "203.0.113.7, unknown", "10.0.0.5"),
        # garbage to the left of the real address is the client's and does not matter
        ("10.0.0.5", "<script>, 203.0.113.7", "203.0.113.7"),
        # only trusted addresses: the left-most is the one the request came from
        ("10.0.0.5", "10.0.0.9", "10.0.0.9"),
    ],
)
def test_the_client_is_the_right_most_address_no_trusted_proxy_wrote(
    settings, remote, forwarded, expected
):
    assert address(settings, remote, forwarded) == expected


def test_without_trusted_proxies_the_header_is_ignored(settings):
    assert address(settings, "10.0.0.5", "203.0.113.7", proxies=[]) == "10.0.0.5"


def test_two_clients_behind_one_proxy_are_limited_and_audited_apart(users, settings):  # noqa: F811
    """Behind the load balancer every request comes from 10.0.0.5. Each client has its
    own login limit; a client cannot dodge its limit by writing its own header; the audit
    row of a denied page names the client's address."""
    settings.RENCAI_TRUSTED_PROXIES = PROXIES
    settings.RENCAI_RATE_LIMITS = {**settings.RENCAI_RATE_LIMITS, "login": (2, 600)}

    def via_proxy(client_address, written_by_client=""):
        hops = ", ".join(h for h in (written_by_client, client_address) if h)
        return Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=hops)

    def login(c):
        form = {"identifier": users.person.id_number, "password": "nope", **CAPTCHA}
        return c.post("/accounts/login/", form)

    for _ in range(2):
        assert login(via_proxy("203.0.113.7")).status_code == 200
    refused = login(via_proxy("203.0.113.7", written_by_client="198.51.100.99"))
    assert refused.status_code == 429 and TOO_MANY in refused.content.decode()
    assert login(via_proxy("203.0.113.8")).status_code == 200  # another client: not limited

    c = via_proxy("203.0.113.8")
    c.force_login(users.person)
    assert c.get("/applications/999999/").status_code == 404  # names an object: logged
    denied = AuditEntry.objects.filter(action="access.denied").order_by("-id").first()
    assert denied is not None and denied.ip == "203.0.113.8"


def test_a_malformed_trusted_proxy_stops_start_up_with_its_name():
    env = {**os.environ, "RENCAI_TRUSTED_PROXIES": "10.0.0.0/24, proxy.local"}
    env["DJANGO_SETTINGS_MODULE"] = "rencai.settings"
    done = subprocess.run(
        [sys.executable, "-c", "import rencai.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "RENCAI_TRUSTED_PROXIES: 'proxy.local' is not an address or network" in done.stderr
