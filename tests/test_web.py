"""The web page and its JSON API over HTTP, on the real server module and the real index:
server-rendered answers with their citations, the API's fields and typed errors, CSRF,
limits, headers, permalinks after a restart, the store's rows. (The browser tests are in
tests/test_browser.py.)"""
from __future__ import annotations

import re
import sqlite3
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

from .web_harness import GOLD_DOC, GOLD_PASSAGE, GOLD_PUBLISHER, GOLD_QUESTION, WebServer, client


class Resources(HTMLParser):
    """Every URL the page would load (scripts, styles, images, frames, icons)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "script" and not a.get("src"):
            self.inline.append("script")
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])
        if tag == "style" or "style" in a or any(k.startswith("on") for k in a):
            self.inline.append(tag)
        if tag == "meta" and (a.get("property") or a.get("name")):
            self.meta[a.get("property") or a.get("name")] = a.get("content", "")


def _parse(html: str) -> Resources:
    p = Resources()
    p.feed(html)
    return p


async def _csrf(http, base) -> str:
    async with http.get(f"{base}/api/session") as r:
        return (await r.json())["csrf"]


@pytest.fixture
async def web(tmp_path, retriever):
    async with WebServer(tmp_path / "data", retriever, rate_limit_per_minute=1000) as server:
        yield server


async def test_a_question_in_the_address_returns_the_answer_page_with_passage_and_citation(web):
    async with client() as http:
        async with http.get(f"{web.base}/?q={quote(GOLD_QUESTION)}") as r:
            assert r.status == 200 and r.content_type == "text/html"
            html = await r.text()
            headers = r.headers
    assert '<html lang="nb">' in html
    assert GOLD_PASSAGE in html and GOLD_DOC in html and GOLD_PUBLISHER in html
    page = _parse(html)
    assert page.urls and all(u.startswith("/") and not u.startswith("//") for u in page.urls), page.urls  # nothing from another host
    assert not page.inline  # no inline script or style: the CSP forbids them
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Lax" in headers["Set-Cookie"]
    async with client() as http:  # every asset the page names is served by the bot itself
        for url in page.urls:
            async with http.get(web.base + url) as r:
                assert r.status == 200, url
                assert r.headers["Content-Security-Policy"]


async def test_the_api_answers_the_same_question_as_json_with_stable_fields(web):
    async with client() as http:
        csrf = await _csrf(http, web.base)
        async with http.post(f"{web.base}/api/ask", json={"question": GOLD_QUESTION}, headers={"X-CSRF-Token": csrf}) as r:
            assert r.status == 200 and r.content_type == "application/json"
            data = await r.json()
    assert data["kind"] == "answer" and data["question"] == GOLD_QUESTION
    first = data["passages"][0]
    assert GOLD_PASSAGE in first["text"] and first["citation"]["title"] == GOLD_DOC and first["citation"]["publisher"] == GOLD_PUBLISHER
    assert data["permalink"] == f"/svar/{data['token']}"
    assert GOLD_PASSAGE in data["html"]
    labels = [b["label"] for row in data["buttons"] for b in row]
    assert "👍" in labels and any(lbl.startswith("📖 Sammenheng") for lbl in labels)


async def test_buttons_context_vote_more_and_the_rows_they_leave(web, tmp_path):
    async with client() as http:
        csrf = await _csrf(http, web.base)
        h = {"X-CSRF-Token": csrf}
        async with http.post(f"{web.base}/api/ask", json={"question": "Hva vil dere gjøre for politiet?"}, headers=h) as r:
            data = await r.json()
        buttons = {b["label"]: b for row in data["buttons"] for b in row}
        async with http.post(f"{web.base}/api/press", json={"data": buttons["Vis flere ▶"]["data"]}, headers=h) as r:
            more = await r.json()
        assert more["kind"] == "answer" and more["page"] == 1 and more["passages"][0]["number"] == 4
        async with http.post(f"{web.base}/api/more", json={"token": data["token"], "page": 1}, headers=h) as r:
            assert (await r.json())["passages"] == more["passages"]
        async with http.post(f"{web.base}/api/context", json={"chunk": data["passages"][0]["chunk"]}, headers=h) as r:
            ctx = await r.json()
        assert ctx["kind"] == "context" and any(p["target"] for p in ctx["passages"])
        async with http.post(f"{web.base}/api/vote", json={"token": data["token"], "up": False}, headers=h) as r:
            vote = await r.json()
        assert "Takk" in vote["notice"]
        async with http.post(f"{web.base}/api/vote", json={"token": "gonegone", "up": True}, headers=h) as r:
            assert r.status == 410 and (await r.json())["error"]["code"] == "expired"
    rows = sqlite3.connect(tmp_path / "data" / "state.sqlite").execute(
        "SELECT a.source, a.question, v.vote, v.user_hash FROM votes v JOIN answers a USING (token)"
    ).fetchall()
    assert rows == [("web", "Hva vil dere gjøre for politiet?", 0, rows[0][3])]
    assert len(rows[0][3]) == 32 and csrf.split(".")[0] not in rows[0][3]  # pseudonymous


async def test_check_compare_topics_documents_and_filters_through_the_api(web):
    async with client() as http:
        h = {"X-CSRF-Token": await _csrf(http, web.base)}
        async with http.post(f"{web.base}/api/check", json={"claim": "Ap vil legge ned kontantstøtten"}, headers=h) as r:
            check = await r.json()
        assert check["kind"] == "check" and "kontantstøtten" in check["passages"][0]["text"].lower()
        async with http.post(f"{web.base}/api/compare", json={"topic": "politikontakt"}, headers=h) as r:
            compare = await r.json()
        assert compare["kind"] == "compare" and len(compare["passages"]) >= 2
        async with http.get(f"{web.base}/api/documents") as r:
            docs = await r.json()
        assert docs["kind"] == "documents" and any(d["title"] == GOLD_DOC for d in docs["documents"])
        async with http.get(f"{web.base}/api/topics") as r:
            topics = await r.json()
        doc_button = topics["buttons"][0][0]
        async with http.post(f"{web.base}/api/press", json={"data": doc_button["data"]}, headers=h) as r:
            assert (await r.json())["kind"] == "section"
        async with http.get(f"{web.base}/api/filter") as r:
            menu = await r.json()
        migration = next(b for row in menu["buttons"] for b in row if "migrasjonsutvalg" in b["label"])
        async with http.post(f"{web.base}/api/press", json={"data": migration["data"]}, headers=h) as r:
            assert "Søker nå i" in (await r.json())["notice"]
        async with http.post(f"{web.base}/api/ask", json={"question": "kontantstøtten"}, headers=h) as r:
            filtered = await r.json()
        assert {p["citation"]["title"] for p in filtered["passages"]} == {"Arbeiderpartiets migrasjonsutvalg – innvandrings- og integreringspolitikk"}
        async with http.post(f"{web.base}/api/reset", json={}, headers=h) as r:
            assert r.status == 200


async def test_hostile_input_gets_one_clear_line_and_never_a_500(web):
    async with client() as http:
        h = {"X-CSRF-Token": await _csrf(http, web.base)}
        for body, code in (({"question": ""}, "empty_question"), ({"question": " \x00\x07 "}, "empty_question"), ({}, "empty_question"), ({"question": "x" * 30_000}, "too_large")):
            async with http.post(f"{web.base}/api/ask", json=body, headers=h) as r:
                assert r.content_type == "application/json" and r.status in (400, 413)
                err = (await r.json())["error"]
                assert err["code"] == code and err["message"]
        async with http.post(f"{web.base}/api/ask", json={"question": "<script>alert(1)</script> kontantstøtte"}, headers=h) as r:
            data = await r.json()
        assert "<script>" not in data["html"] and "&lt;script&gt;" in data["html"]
        async with http.post(f"{web.base}/api/ask", json={"question": "kontantstøtten " * 700}, headers=h) as r:
            long = await r.json()
        assert r.status == 200 and "langt" in long["note"]
        async with http.get(f"{web.base}/?q=" + quote("kontantstøtten " * 700)) as r:  # 10,000 characters in the address
            assert r.status == 200 and "langt" in await r.text()
        async with http.get(f"{web.base}/?q=") as r:
            assert r.status == 400 and "Skriv et spørsmål" in await r.text()
        async with http.post(f"{web.base}/api/ask", data="not json", headers={**h, "Content-Type": "application/json"}) as r:
            assert r.status == 400 and (await r.json())["error"]["code"] == "bad_request"
        async with http.post(f"{web.base}/api/more", json={"token": "x", "page": "1"}, headers=h) as r:
            assert r.status == 400
        async with http.get(f"{web.base}/api/finnesikke") as r:
            assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"
        async with http.get(f"{web.base}/api/ask") as r:
            assert r.status == 405 and (await r.json())["error"]["code"] == "method_not_allowed"
        async with http.post(f"{web.base}/api/ask", data="x" * 200_000, headers=h) as r:
            assert r.status == 413 and (await r.json())["error"]["code"] == "too_large"


async def test_posts_need_the_csrf_token_of_this_client_and_this_origin(web):
    async with client() as http:
        csrf = await _csrf(http, web.base)
        async with http.post(f"{web.base}/api/ask", json={"question": "skole"}) as r:
            assert r.status == 403 and (await r.json())["error"]["code"] == "csrf"
        async with http.post(f"{web.base}/api/ask", json={"question": "skole"}, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"}) as r:
            assert r.status == 403
        async with http.post(f"{web.base}/nullstill", data={"csrf": "forged.token"}) as r:
            assert r.status == 403 and "Last inn siden på nytt" in await r.text()
    async with client() as other:  # another client's token is refused
        await _csrf(other, web.base)
        async with other.post(f"{web.base}/api/ask", json={"question": "skole"}, headers={"X-CSRF-Token": csrf}) as r:
            assert r.status == 403


async def test_rate_limits_are_per_client_in_the_shared_store(tmp_path, retriever):
    async with WebServer(tmp_path / "data", retriever, rate_limit_per_minute=2) as web:
        async with client() as a, client() as b:
            ha = {"X-CSRF-Token": await _csrf(a, web.base)}
            hb = {"X-CSRF-Token": await _csrf(b, web.base)}
            statuses = []
            for q in ("skole", "helse", "politi"):
                async with a.post(f"{web.base}/api/ask", json={"question": q}, headers=ha) as r:
                    statuses.append(r.status)
                    last = await r.json()
            assert statuses == [200, 200, 429] and last["error"]["code"] == "rate_limited" and "veldig raskt" in last["error"]["message"]
            async with b.post(f"{web.base}/api/ask", json={"question": "skole"}, headers=hb) as r:
                assert r.status == 200  # another client has its own count
        async with client() as c:  # no cookie sent back: counted by the hashed address
            for _ in range(3):
                async with c.get(f"{web.base}/?q=skole", headers={"Cookie": ""}) as r:
                    c.cookie_jar.clear()
                    status = r.status
            assert status == 429


async def test_a_permalink_survives_a_restart_and_carries_open_graph_tags(tmp_path, retriever):
    async with WebServer(tmp_path / "data", retriever) as web:
        async with client() as http:
            async with http.get(f"{web.base}/?q={quote(GOLD_QUESTION)}") as r:
                token = re.search(r'href="/svar/([A-Za-z0-9_-]+)"', await r.text()).group(1)
    async with WebServer(tmp_path / "data", retriever) as web:  # a new process on the same store
        async with client() as http:
            async with http.get(f"{web.base}/svar/{token}") as r:
                assert r.status == 200
                html = await r.text()
            async with http.get(f"{web.base}/svar/finnesikke") as r:
                assert r.status == 404 and "Fant ikke dette svaret" in await r.text()
    meta = _parse(html).meta
    assert GOLD_PASSAGE in html and GOLD_DOC in html
    assert meta["og:title"] == GOLD_QUESTION and GOLD_PASSAGE in meta["og:description"] and meta["og:url"].endswith(f"/svar/{token}")


async def test_embedding_origins_are_a_setting(tmp_path, retriever):
    async with WebServer(tmp_path / "data", retriever, web_embed_origins="https://www.example.no,https://parti.example.org") as web:
        async with client() as http:
            async with http.get(f"{web.base}/") as r:
                csp = r.headers["Content-Security-Policy"]
                assert "X-Frame-Options" not in r.headers
            async with http.get(f"{web.base}/innebygg") as r:
                assert "&lt;iframe" in await r.text()
            h = {"X-CSRF-Token": await _csrf(http, web.base), "Origin": "https://www.example.no"}
            async with http.post(f"{web.base}/api/ask", json={"question": "skole"}, headers=h) as r:
                assert r.status == 200  # a POST from the embedding site is allowed
    assert "frame-ancestors https://www.example.no https://parti.example.org" in csp
