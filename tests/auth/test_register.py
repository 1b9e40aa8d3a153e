"""Registration with proof of ownership (SECURITY.md 1-5, 9)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from models.auth import ProofAttempt, ProofOutcome, SecurityEvent
from models.cabinets import Cabinet, CabinetAccount
from services.core.clock import clock
from tests.support import (
    ACCOUNT_1,
    ACCOUNT_2,
    AMOUNT_1,
    AMOUNT_2,
    PASSWORD,
    PRIVACY_NOTICE,
    REGISTER,
    SILENT_ACCOUNT,
    Api,
    codes,
)

pytestmark = pytest.mark.usefixtures("demo_data")


async def test_register_links_the_account(api: Api) -> None:
    result = await api.register(ACCOUNT_1, AMOUNT_1, "Ivanova@Mail.RU")
    assert result["userErrors"] == []
    assert result["user"] == {"email": "ivanova@mail.ru", "emailVerified": False}
    cabinet = await Cabinet.get(email="ivanova@mail.ru")
    assert cabinet.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    link = await CabinetAccount.get(cabinet=cabinet).prefetch_related("account")
    assert link.account.number == ACCOUNT_1
    kinds = [e.kind for e in await SecurityEvent.filter(cabinet=cabinet).order_by("id")]
    assert kinds == ["registered", "account_linked", "privacy_notice_accepted"]
    attempt = await ProofAttempt.get(account_number=ACCOUNT_1)
    assert (attempt.purpose, attempt.outcome, attempt.ip) == ("register", "success", "203.0.113.7")


@pytest.mark.parametrize("typed", ["1500", "1 500,00", "1500,0", "1500.00 ₽", "1,500.00"])
async def test_amounts_as_people_type_them(api: Api, typed: str) -> None:
    result = await api.register("0012-3456-7890", typed, "ivanova@mail.ru")
    assert result["userErrors"] == []


async def test_unknown_account_and_wrong_amount_look_the_same(api: Api) -> None:
    unknown = await api.raw(
        REGISTER,
        {
            "input": {
                "accountNumber": "009999999999",
                "paymentAmount": AMOUNT_1,
                "email": "a@mail.ru",
                "password": PASSWORD,
                "acceptPrivacyNotice": PRIVACY_NOTICE,
            }
        },
    )
    wrong = await api.raw(
        REGISTER,
        {
            "input": {
                "accountNumber": ACCOUNT_1,
                "paymentAmount": "1499.99",
                "email": "a@mail.ru",
                "password": PASSWORD,
                "acceptPrivacyNotice": PRIVACY_NOTICE,
            }
        },
    )
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.json() == wrong.json()
    error = wrong.json()["data"]["register"]["userErrors"][0]
    assert error["code"] == "INVALID_PROOF"
    assert error["field"] is None
    assert error["message"].startswith("Номер лицевого счёта и сумма платежа")


async def test_no_recent_payments_names_the_minimal_payment(api: Api) -> None:
    result = await api.register(SILENT_ACCOUNT, "700", "smirnov@mail.ru")
    assert codes(result) == ["NO_RECENT_PAYMENTS"]
    assert "10.00 ₽" in result["userErrors"][0]["message"]
    english = await api.register(
        SILENT_ACCOUNT, "700", "smirnov@mail.ru", accept_language="en-GB,en;q=0.9"
    )
    assert "minimal payment of 10.00 RUB" in english["userErrors"][0]["message"]


async def test_already_registered_and_email_taken(api: Api) -> None:
    assert (await api.register(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru"))["userErrors"] == []
    again = await api.register(ACCOUNT_1, AMOUNT_1, "other@mail.ru")
    assert codes(again) == ["ALREADY_REGISTERED"]
    assert "восстановите доступ" in again["userErrors"][0]["message"]
    taken = await api.register(ACCOUNT_2, AMOUNT_2, "IVANOVA@mail.ru")
    assert codes(taken) == ["EMAIL_TAKEN"]
    assert await Cabinet.all().count() == 1


async def test_input_problems_are_reported_together_and_cost_no_attempt(api: Api) -> None:
    result = await api.register("12-ab", "12,345", "not-an-email", "short")
    assert sorted(codes(result)) == [
        "INVALID_ACCOUNT_NUMBER",
        "INVALID_AMOUNT",
        "INVALID_EMAIL",
        "WEAK_PASSWORD",
    ]
    fields = {e["code"]: e["field"] for e in result["userErrors"]}
    assert fields["INVALID_AMOUNT"] == ["paymentAmount"]
    assert fields["WEAK_PASSWORD"] == ["password"]
    assert await ProofAttempt.all().count() == 0


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("1234567", "слишком короткий"),
        ("x" * 257, "слишком длинный"),
        ("password1", "слишком распространён"),
        ("Qwertyuiop", "слишком распространён"),
        ("my-ivanova-2026", "не должен содержать"),
        ("pw001234567890!", "не должен содержать"),
        ("Energosbyt-forever", "не должен содержать"),
    ],
)
async def test_weak_passwords(api: Api, password: str, reason: str) -> None:
    result = await api.register(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru", password)
    assert codes(result) == ["WEAK_PASSWORD"]
    assert reason in result["userErrors"][0]["message"]


async def test_long_unicode_passwords_are_accepted_whole(api: Api) -> None:
    password = "пароль-из-фразы " * 15  # 240 code points, beyond bcrypt's 72 bytes
    assert (await api.register(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru", password))[
        "userErrors"
    ] == []
    assert (await api.login("ivanova@mail.ru", password))["token"]
    assert (await api.login("ivanova@mail.ru", password[:-1]))["token"] is None


async def test_five_wrong_proofs_lock_the_account_number_for_a_day(api: Api) -> None:
    for amount in ("1", "2", "3", "4", "5"):
        assert codes(await api.register(ACCOUNT_1, amount, "ivanova@mail.ru")) == ["INVALID_PROOF"]
    locked = await api.register(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
    assert codes(locked) == ["TOO_MANY_ATTEMPTS"]
    retry = dt.datetime.fromisoformat(locked["userErrors"][0]["retryAfter"])
    assert dt.timedelta(hours=23, minutes=59) < retry - clock.now() <= dt.timedelta(hours=24)
    assert "Повторите после" in locked["userErrors"][0]["message"]
    # another account number is not affected
    assert codes(await api.register(ACCOUNT_2, "1", "petrov@mail.ru")) == ["INVALID_PROOF"]
    clock.advance(dt.timedelta(hours=24, seconds=1))
    assert (await api.register(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru"))["userErrors"] == []


async def test_a_right_proof_gives_its_attempt_back(api: Api) -> None:
    for amount in ("1", "2", "3", "4"):
        await api.register(ACCOUNT_1, amount, "ivanova@mail.ru")
    assert (await api.register(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru"))["userErrors"] == []
    # 4 failures stand; one more is allowed, the next is not
    user = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    assert codes(await user.link(ACCOUNT_1, "9")) == ["INVALID_PROOF"]
    assert codes(await user.link(ACCOUNT_1, "9")) == ["TOO_MANY_ATTEMPTS"]


async def test_aliases_in_one_document_count_one_by_one(api: Api) -> None:
    fields = "\n".join(
        f'a{i}: register(input: {{accountNumber: "{ACCOUNT_1}", paymentAmount: "{i + 1}", '
        f'email: "x{i}@mail.ru", password: "{PASSWORD}", acceptPrivacyNotice: "{PRIVACY_NOTICE}"}}) '
        f"{{ userErrors {{ code }} }}"
        for i in range(20)
    )
    data = await api.data(f"mutation {{ {fields} }}")
    results = [data[f"a{i}"]["userErrors"][0]["code"] for i in range(20)]
    assert results.count("INVALID_PROOF") == 5
    assert results.count("TOO_MANY_ATTEMPTS") == 15
    assert await ProofAttempt.filter(outcome=ProofOutcome.INVALID_PROOF).count() == 5


async def test_parallel_guesses_are_counted_exactly(api: Api) -> None:
    results = await asyncio.gather(
        *(api.register(ACCOUNT_1, f"{i + 1}.00", f"p{i}@mail.ru") for i in range(30))
    )
    outcomes = [codes(r)[0] for r in results]
    assert outcomes.count("INVALID_PROOF") == 5
    assert outcomes.count("TOO_MANY_ATTEMPTS") == 25
    assert codes(await api.register(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")) == [
        "TOO_MANY_ATTEMPTS"
    ]


async def test_batched_requests_are_refused(client) -> None:
    body = [{"query": "{ version }"}, {"query": "{ version }"}]
    modern = await client.post(
        "/graphql", json=body, headers={"Accept": "application/graphql-response+json"}
    )
    assert modern.status_code == 400
    assert "data" not in modern.json()
    # A JSON array is not a GraphQL-over-HTTP request at all, so 400 for application/json
    # clients too (the spec's "not well-formed"), with the reason in an error.
    legacy = await client.post("/graphql", json=body)
    assert legacy.status_code == 400
    assert legacy.json().get("data") is None
    assert "Batched requests are not supported" in legacy.json()["errors"][0]["message"]


async def test_thirty_failures_from_one_ip_lock_every_account(api: Api, settings) -> None:
    numbers = [f"0099{i:08d}" for i in range(30)]
    for number in numbers:
        assert codes(await api.register(number, "1", "a@mail.ru")) == ["INVALID_PROOF"]
    assert codes(await api.register(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")) == [
        "TOO_MANY_ATTEMPTS"
    ]


async def test_the_lock_never_blocks_password_login(api: Api) -> None:
    user = await api.signed_up()
    for amount in ("1", "2", "3", "4", "5", "6"):
        await user.link(ACCOUNT_1, amount)
    assert codes(await api.register(ACCOUNT_1, AMOUNT_1, "x@mail.ru")) == ["TOO_MANY_ATTEMPTS"]
    assert (await api.login("ivanova@mail.ru"))["userErrors"] == []
