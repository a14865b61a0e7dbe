"""Reading e-mails without Django: fields, charsets, classification, the case tag, never raising."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beskontakt.inbox.email import parse as p

from .mails import PNG, bounce, mail


def test_fields_of_a_normal_mail() -> None:
    raw = mail(
        message_id="<m1@example.ru>",
        in_reply_to="<a2@care>",
        references=["<a1@care>", "<a2@care>"],
        files=[("роутер.png", "image/png", PNG)],
    )
    parsed = p.parse(raw)
    assert parsed.problem is None
    assert parsed.kind == p.Kind.NORMAL
    assert parsed.message_id == "<m1@example.ru>"
    assert parsed.in_reply_to == "<a2@care>"
    assert parsed.references == ["<a1@care>", "<a2@care>"]
    assert parsed.thread_ids == ["<a2@care>", "<a1@care>"]
    assert parsed.from_address == "maria.ivanova@example.ru"
    assert parsed.from_name == "Мария Иванова"
    assert parsed.to == ["care@beskontakt.local"]
    assert parsed.date is not None and parsed.date.year == 2026
    assert parsed.text.startswith("Здравствуйте!")
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [("роутер.png", "image/png", PNG)]


def test_html_only_mail_becomes_text() -> None:
    raw = (
        b"From: a@example.ru\r\nSubject: html\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=windows-1251\r\n\r\n"
        b"<html><head><style>p{}</style></head><body><p>\xcf\xf0\xe8\xe2\xe5\xf2</p>"
        b"<p>\xf1\xf2\xf0\xee\xea\xe0<br>\xe2\xf2\xee\xf0\xe0\xff &amp; <a href='https://x.ru/'>link</a></p>"
        b"<script>alert(1)</script></body></html>"
    )
    parsed = p.parse(raw)
    assert parsed.text == "Привет\n\nстрока\nвторая & link (https://x.ru/)"


def test_plain_preferred_over_html() -> None:
    parsed = p.parse(mail(body="простой текст", html="<p>HTML текст</p>"))
    assert parsed.text == "простой текст"
    assert parsed.attachments == []


def test_unknown_and_wrong_charsets_are_read() -> None:
    body = "Здравствуйте, не работает ТВ".encode()
    raw = b"From: a@example.ru\r\nSubject: =?x-unknown-cs?B?0J/RgNC40LLQtdGC?=\r\n"
    raw += b"Content-Type: text/plain; charset=x-klingon\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
    parsed = p.parse(raw)
    assert parsed.problem is None
    assert parsed.text == "Здравствуйте, не работает ТВ"
    cp1251 = "Счёт не пришёл".encode("cp1251")
    raw = b"From: a@example.ru\r\nSubject: s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + cp1251
    assert p.parse(raw).text == "Счёт не пришёл"  # declared UTF-8, really Windows-1251


def test_broken_base64_and_mime() -> None:
    raw = (
        b"From: a@example.ru\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"0J/RgNC4###!!!\r\n--never-closed\r\nContent-Type: image/png; name=a.png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n@@@@"
    )
    parsed = p.parse(raw)
    assert parsed.problem is None
    assert parsed.from_address == "a@example.ru"


def test_huge_header_is_refused_as_too_large() -> None:
    raw = b"From: a@example.ru\r\nSubject: x\r\nX-Junk: " + b"a" * (p.MAX_HEADER_BYTES + 10) + b"\r\n\r\nbody"
    parsed = p.parse(raw)
    assert parsed.problem == p.Problem.TOO_LARGE
    assert "header" in parsed.problem_detail


def test_long_subject_is_cut() -> None:
    parsed = p.parse(mail(subject="Очень " * 3000))
    assert parsed.problem is None
    assert len(parsed.subject) <= p.MAX_SUBJECT


def test_too_large_message() -> None:
    parsed = p.parse(mail(), max_bytes=100)
    assert parsed.problem == p.Problem.TOO_LARGE
    assert parsed.from_address == "maria.ivanova@example.ru"


def test_missing_message_id_gets_a_stable_one() -> None:
    raw = mail(message_id="")
    first, again = p.parse(raw), p.parse(b"Received: from mx2 by mx1; Thu, 20 Nov 2026\r\n" + raw)
    assert first.message_id is None
    assert first.stable_id == again.stable_id
    assert first.stable_id.endswith("@no-message-id.invalid>")
    assert p.parse(mail(message_id="", body="другой текст")).stable_id != first.stable_id


def test_no_sender_is_malformed() -> None:
    parsed = p.parse(b"Subject: hello\r\n\r\ntext")
    assert parsed.problem == p.Problem.MALFORMED
    assert "From" in parsed.problem_detail
    assert p.parse(b"").problem == p.Problem.MALFORMED
    assert p.parse(b"\x00\xff garbage").problem == p.Problem.MALFORMED


def test_long_message_ids_are_hashed() -> None:
    long_id = "<" + "x" * 400 + "@example.ru>"
    parsed = p.parse(mail(message_id=long_id, in_reply_to=long_id))
    assert parsed.message_id is not None and len(parsed.message_id) <= 255
    assert parsed.in_reply_to == parsed.message_id


def test_auto_replies() -> None:
    cases = [
        {"headers": {"Auto-Submitted": "auto-replied"}},
        {"headers": {"X-Autoreply": "yes"}},
        {"headers": {"Precedence": "bulk"}},
        {"headers": {"Precedence": "auto_reply"}},
        {"headers": {"X-Auto-Response-Suppress": "All"}},
        {"subject": "Out of Office: Не работает интернет"},
        {"subject": "Автоответ: Re: обращение [#5]"},
        {"subject": "Автоматический ответ: обращение"},
    ]
    for extra in cases:
        parsed = p.parse(mail(**extra))  # type: ignore[arg-type]
        assert parsed.kind == p.Kind.AUTO_REPLY, extra
        assert parsed.kind_detail
    assert p.parse(mail(headers={"Auto-Submitted": "no"})).kind == p.Kind.NORMAL
    assert p.parse(mail(subject="Re: автоответчик не работает?")).kind == p.Kind.NORMAL


def test_bounces() -> None:
    parsed = p.parse(bounce("<out-1@beskontakt.local>"))
    assert parsed.kind == p.Kind.BOUNCE
    assert parsed.bounced_ids == ["<out-1@beskontakt.local>"]
    assert "550 5.1.1 User unknown" in parsed.kind_detail
    postmaster = mail(sender="postmaster@example.ru", subject="Delivery failure")
    assert p.parse(postmaster).kind == p.Kind.BOUNCE
    null_path = b"Return-Path: <>\r\n" + mail(sender="robot@example.ru", subject="Mail delivery failed")
    assert p.parse(null_path).kind == p.Kind.BOUNCE
    quoted = mail(
        sender="mailer-daemon@mx.example.ru",
        subject="failure notice",
        body="Sorry.\n\n--- Below this line is a copy of the message.\n\nMessage-ID: <out-2@beskontakt.local>\n",
    )
    assert p.parse(quoted).bounced_ids == ["<out-2@beskontakt.local>"]


def test_case_tag() -> None:
    assert p.case_tag(42) == "[#42]"
    assert p.find_case_tag("Re: Нет интернета [#42]") == 42
    assert p.find_case_tag("[#1] then [#77]") == 77
    assert p.find_case_tag("Счёт #42") is None
    assert p.find_case_tag(None) is None
    assert p.tagged_subject("Нет интернета", 42) == "Re: Нет интернета [#42]"
    assert p.tagged_subject("RE: Re: Ответ: Нет интернета [#42]", 42) == "Re: Нет интернета [#42]"
    assert p.tagged_subject("Ваш код", 7, reply=False) == "Ваш код [#7]"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    parsed = p.parse(raw)
    assert isinstance(parsed, p.ParsedEmail)
    assert parsed.problem is not None or parsed.from_address or parsed.kind != p.Kind.NORMAL


HEADER_NAMES = st.sampled_from(
    [
        "From",
        "To",
        "Subject",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Date",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Content-Disposition",
        "Auto-Submitted",
        "Return-Path",
        "Precedence",
        "MIME-Version",
    ]
)
HEADER_VALUES = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "=?utf-8?B?0J/RgNC40LLQtdGC?=",
            "=?bogus?Q?=FF=FE?=",
            "multipart/mixed; boundary=b",
            'multipart/report; report-type=delivery-status; boundary="b"',
            "text/plain; charset=koi8-r",
            "text/html; charset=nonsense",
            "base64",
            "quoted-printable",
            "<a@b> <c@d>",
            "Мария <m@example.ru>",
            "attachment; filename*=utf-8''%D0%B0.png",
            "<>",
            "Thu, 99 Nov 2026 25:61:00 +9999",
        ]
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12),
    st.binary(max_size=2000) | st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
def test_never_raises_on_mail_like_input(headers: list[tuple[str, str]], body: bytes) -> None:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8", "surrogatepass")
    raw = head + b"\r\n--b\r\nContent-Type: text/plain\r\n\r\n" + body + b"\r\n--b--\r\n"
    parsed = p.parse(raw)
    assert isinstance(parsed.text, str)
    assert all(isinstance(a.data, bytes) for a in parsed.attachments)
