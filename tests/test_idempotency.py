"""Issue 7, build 4: a retried create or submit never makes a second application, and a
busy server answers at once with 503 "系统繁忙" and Retry-After instead of timing out."""

import json
import logging
import threading

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from rencai.applications import transitions as t
from rencai.applications.models import Application
from rencai.errors import ServiceError
from rencai.loadshed import ConcurrencyLimitMiddleware
from rencai.notifications.models import Message
from rencai.programs.models import Program
from tests.test_api_applications import DATA, api_client, start_draft
from tests.test_applications import TODAY, living

S = Application.State


def test_a_create_retried_with_its_token_returns_the_first_draft(city, ready_applicant):
    program = Program.objects.get(code="grad_living")
    first = t.draft_save(
        actor=ready_applicant, program=program, data=DATA, client_token="form-3f2a9c01"
    )
    again = t.draft_save(
        actor=ready_applicant,
        program=program,
        data={**DATA, "explanation": "第二次"},
        client_token="form-3f2a9c01",
    )
    assert again.pk == first.pk and again.data == first.data and again.version == first.version
    assert Application.objects.filter(applicant=ready_applicant).count() == 1
    assert first.events.filter(action="create").count() == 1
    other = t.draft_save(
        actor=ready_applicant, program=program, data=DATA, client_token="form-77aa0b12"
    )
    assert other.pk != first.pk
    with pytest.raises(ServiceError, match="请求标识无效"):
        t.draft_save(actor=ready_applicant, program=program, data=DATA, client_token="<bad>")
    assert Application.objects.filter(applicant=ready_applicant).count() == 2


def test_the_api_create_is_idempotent_with_a_client_token(city, ready_applicant):
    client = api_client(ready_applicant)
    assert client.get("/api/programs/grad_living").status_code == 200
    body = {"program": "grad_living", "data": DATA, "client_token": "api-0001-retry"}
    first = client.send("POST", "/api/applications", body)
    second = client.send("POST", "/api/applications", body)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Application.objects.filter(applicant=ready_applicant).count() == 1
    start_draft(client, ready_applicant)  # no token: a new draft each time, as before
    assert Application.objects.filter(applicant=ready_applicant).count() == 2


def test_a_submit_retried_with_the_version_it_saw_answers_as_the_first(city, ready_applicant):
    app = living(ready_applicant)
    seen = app.version
    first = t.submit(
        actor=ready_applicant,
        application=app,
        commitment_accepted=True,
        seen_version=seen,
        today=TODAY,
    )
    messages = Message.objects.count()
    retry = t.submit(
        actor=ready_applicant,
        application=app,
        commitment_accepted=True,
        seen_version=seen,
        today=TODAY,
    )
    assert retry.pk == first.pk and retry.state == S.SUBMITTED and retry.number == first.number
    assert first.events.filter(action="submit").count() == 1
    assert Message.objects.count() == messages  # nobody is told twice
    # once a reviewer has acted, an old retry is refused, not replayed
    t.approve(actor=city.employer_admin, application=retry)
    with pytest.raises(ServiceError, match="已被他人处理"):
        t.submit(
            actor=ready_applicant,
            application=app,
            commitment_accepted=True,
            seen_version=seen,
            today=TODAY,
        )


def test_double_clicking_submit_in_the_browser_gives_one_submission(city, ready_applicant, client):
    app = living(ready_applicant)
    client.force_login(ready_applicant)
    form = {"commitment": "on", "version": str(app.version)}
    url = f"/applications/{app.pk}/submit/"
    first, second = client.post(url, form), client.post(url, form, follow=True)
    assert first.status_code == 302
    assert "提交成功" in second.content.decode()
    app.refresh_from_db()
    assert app.state == S.SUBMITTED and app.events.filter(action="submit").count() == 1


# --- load shedding -------------------------------------------------------------------


@pytest.fixture
def held(settings):
    """A middleware with one slot, and a request holding it until released."""
    settings.RENCAI_MAX_IN_FLIGHT = 1
    settings.RENCAI_BUSY_WAIT_SECONDS = 0.05
    settings.RENCAI_RETRY_AFTER_SECONDS = 7
    inside, release = threading.Event(), threading.Event()

    def view(request):
        if request.path == "/slow/":
            inside.set()
            release.wait(5)
        return HttpResponse("ok")

    middleware = ConcurrencyLimitMiddleware(view)
    factory = RequestFactory()
    slow = threading.Thread(target=middleware, args=(factory.get("/slow/"),))
    slow.start()
    assert inside.wait(5)
    yield middleware, factory
    release.set()
    slow.join(5)


@pytest.mark.django_db
def test_a_busy_server_answers_at_once_with_retry_after(held, django_assert_num_queries):
    middleware, factory = held
    with django_assert_num_queries(0):  # the busy page never touches the database
        page = middleware(factory.get("/applications/"))
    assert page.status_code == 503 and page["Retry-After"] == "7"
    html = page.content.decode()
    assert "系统繁忙" in html and "7 秒后再试" in html and 'http-equiv="refresh"' in html
    posted = middleware(factory.post("/applications/5/submit/"))
    assert posted.status_code == 503 and 'http-equiv="refresh"' not in posted.content.decode()
    assert "不会因为重复提交而变成两份" in posted.content.decode()
    api = middleware(factory.post("/api/applications"))
    assert api.status_code == 503  # in the API's one refusal shape
    assert json.loads(api.content) == {
        "detail": "系统繁忙，请 7 秒后再试。您填写的内容没有丢失：返回上一页重新提交即可。",
        "field": None,
        "code": "busy",
    }
    assert middleware(factory.get("/static/rencai/site.css")).status_code == 200
    # the page is rendered once per language and kind (an overloaded server's answers
    # must be cheap), never answering one language's page in another
    # in the language the person chose (the cookie), whatever the thread last spoke
    chose_english = factory.get("/applications/")
    chose_english.COOKIES[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("zh-hans"):
        answer = middleware(chose_english)
    english = answer.content.decode()
    assert "系统繁忙" not in english and "7" in english and '<html lang="en">' in english
    assert answer["Content-Language"] == "en"
    with translation.override("en"):
        chinese = middleware(factory.get("/applications/")).content.decode()
    assert "系统繁忙" in chinese and '<html lang="zh-CN">' in chinese
    assert middleware.shed == 5


@pytest.mark.django_db
def test_busy_answers_are_counted_in_a_warning_not_logged_one_by_one(settings, caplog):
    """Django logs every 5xx answer as an error: on a busy day, one line per turned-away
    request. The log gets one warning with the count instead, at most every 10 s."""
    from django.utils.log import log_response

    settings.RENCAI_MAX_IN_FLIGHT = 1
    middleware = ConcurrencyLimitMiddleware(lambda request: HttpResponse("ok"))
    shed = RequestFactory().post("/applications/5/submit/")
    shed.META["rencai.shed"] = True  # as the server's worker marks a connection it turns away

    def reports():
        return [r.getMessage() for r in caplog.records if r.name == "rencai.loadshed"]

    with caplog.at_level(logging.INFO):
        for _ in range(3):
            answer = middleware(shed)
            assert answer.status_code == 503
            log_response("%s: %s", answer.reason_phrase, shed.path, response=answer, request=shed)
        assert not [r for r in caplog.records if r.name == "django.request"]
        assert reports() == [
            "Server busy: 1 request(s) answered 503 with Retry-After since the last report"
        ]
        middleware._report_at = 0.0  # ten seconds on
        middleware(shed)
    assert reports()[1:] == [
        "Server busy: 3 request(s) answered 503 with Retry-After since the last report"
    ]
    assert middleware.shed == 4


@pytest.mark.django_db
def test_the_server_recovers_when_the_slot_is_free(settings):
    settings.RENCAI_MAX_IN_FLIGHT = 1
    middleware = ConcurrencyLimitMiddleware(lambda request: HttpResponse("ok"))
    factory = RequestFactory()
    assert [middleware(factory.get("/")).status_code for _ in range(5)] == [200] * 5
    settings.RENCAI_MAX_IN_FLIGHT = 0  # off: no limit at all
    assert ConcurrencyLimitMiddleware(lambda r: HttpResponse("ok")).slots is None


@pytest.mark.django_db(transaction=True)
def test_a_full_server_process_turns_a_new_connection_away_at_once(tmp_path):
    """rencai.server: with its requests in the process at the bound, the gunicorn worker
    answers a new connection from its loop with the middleware's own busy answer, instead
    of queueing it behind the others; it takes requests again once there is room."""
    import http.client
    import socket
    import time

    from tests.security.test_faults import gunicorn, tail

    log = tmp_path / "gunicorn.log"
    server = gunicorn(
        tmp_path,
        WEB_WORKERS=1,
        WEB_THREADS=2,
        RENCAI_MAX_IN_FLIGHT=1,  # one request in the process …
        RENCAI_SERVER_QUEUE=0,  # … and none waiting
        RENCAI_RETRY_AFTER_SECONDS=3,
    )

    def get(method, path, cookie=""):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        started = time.monotonic()
        headers = {"Connection": "close", **({"Cookie": cookie} if cookie else {})}
        conn.request(method, path, headers=headers)
        answer = conn.getresponse()
        body = answer.read().decode()
        conn.close()
        return answer, body, time.monotonic() - started

    with server as port:
        # a client that connects and sends nothing yet holds the one place
        time.sleep(0.5)  # (once the last answer's connection is closed)
        slow = socket.create_connection(("127.0.0.1", port))
        time.sleep(0.5)
        page, html, seconds = get("GET", "/accounts/login/")
        assert page.status == 503 and seconds < 2, tail(log)
        assert page.getheader("Retry-After") == "3" and page.getheader("Connection") == "close"
        assert "系统繁忙" in html and "3 秒后再试" in html and '<html lang="zh-CN">' in html
        assert page.getheader("Content-Security-Policy")  # the outer middleware's headers
        english, html, _ = get("GET", "/", cookie=f"{settings.LANGUAGE_COOKIE_NAME}=en")
        assert english.status == 503 and "系统繁忙" not in html and '<html lang="en">' in html
        api, body, _ = get("POST", "/api/applications")
        assert api.status == 503 and json.loads(body)["code"] == "busy"

        slow.close()  # room again
        deadline = time.monotonic() + 10
        while get("GET", "/accounts/login/")[0].status != 200:
            assert time.monotonic() < deadline, tail(log)
            time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_a_full_server_process_leaves_new_connections_to_a_process_with_a_free_slot(tmp_path):
    """rencai.server: a process takes a connection only while it has a free slot; the others
    wait in the listen queue for whichever process frees one first. So while one process is
    busy, every request is served by the other, and none is turned away by the full one
    (which, taking it, could only have answered "busy": no waiting for a slot here)."""
    import socket
    import time

    from tests.security.test_faults import gunicorn, request, tail

    log = tmp_path / "gunicorn.log"
    server = gunicorn(
        tmp_path,
        WEB_WORKERS=2,
        WEB_THREADS=4,
        RENCAI_MAX_IN_FLIGHT=1,  # one request per process …
        RENCAI_BUSY_WAIT_MS=0,  # … and a request let in beyond it is answered "busy" at once
        RENCAI_SERVER_QUEUE=16,
    )
    with server as port:
        time.sleep(0.5)  # (once the start-up requests' connections are closed)
        # a form whose body is slow to come holds one process's slot (its request is
        # in the middleware, waiting for the body)
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(
            b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Cookie: csrftoken=" + b"c" * 32 + b"\r\nContent-Length: 100\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\ncsrfmiddlewaretoken="
        )
        time.sleep(0.3)
        slow.settimeout(0.2)
        with pytest.raises(TimeoutError):  # not answered: still waiting for its body
            slow.recv(200)
        # (were one waiting for the slow client's slot, it would wait until the end)
        statuses = [request(port, "GET", "/accounts/login/")[0] for _ in range(20)]
        assert statuses == [200] * 20, (statuses, tail(log))
        slow.close()
