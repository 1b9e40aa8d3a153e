"""Settings: read once from the environment and `.env` (their reference: tests/ops/test_docs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import (
    ROOT,
    UNSIGNED_PROVIDERS,
    ConfigError,
    account_key_is_valid,
    inn_is_valid,
    load_settings,
    needs_webhook_secret,
    online_payments,
    payment_provider_name,
    read_env_file,
)


def test_defaults_and_generated_development_key(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path)}, env_file=None)
    assert settings.database_url == "sqlite://var/kabinet.sqlite3"
    assert settings.env == "development"
    assert len(settings.secret_key) >= 32
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = load_settings({"VAR_DIR": str(tmp_path)}, env_file=None)
    assert again.secret_key == settings.secret_key  # kept, so links survive a restart


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"ENV": "production", "VAR_DIR": str(tmp_path)}, env_file=None)
    assert not (tmp_path / "secret_key").exists()
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings({"ENV": "production", "SECRET_KEY": "short"}, env_file=None)
    ok = load_settings(
        {
            "ENV": "production",
            "SECRET_KEY": "k" * 40,
            "PAYMENT_PROVIDER": "tests.acquirer",
            "PAYMENT_WEBHOOK_SECRET": "w" * 40,
        },
        env_file=None,
    )
    assert ok.is_production


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# local settings\n"
        "export PORT=9001\n"
        "PUBLIC_WEB_URL='https://lk.example.ru/'\n"
        'TIMEZONE="Asia/Yekaterinburg"  \n'
        "HOST=0.0.0.0 # all interfaces\n"
        "\n",
        encoding="utf-8",
    )
    settings = load_settings(
        {"PORT": "9002", "SECRET_KEY": "s" * 40, "VAR_DIR": str(tmp_path)}, env_file=env_file
    )
    assert settings.port == 9002
    assert settings.host == "0.0.0.0"
    assert settings.public_web_url == "https://lk.example.ru"
    assert settings.timezone == "Asia/Yekaterinburg"


def test_bad_values_are_named() -> None:
    with pytest.raises(ConfigError, match="PORT"):
        load_settings({"PORT": "eighty", "SECRET_KEY": "s" * 40}, env_file=None)
    with pytest.raises(ConfigError, match="PUBLIC_WEB_URL"):
        load_settings({"PUBLIC_WEB_URL": "lk.example.ru", "SECRET_KEY": "s" * 40}, env_file=None)
    with pytest.raises(ConfigError, match="ENV"):
        load_settings({"ENV": "prod", "SECRET_KEY": "s" * 40}, env_file=None)
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings({"LOG_FORMAT": "xml", "SECRET_KEY": "s" * 40}, env_file=None)
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        load_settings({"LOG_LEVEL": "loud", "SECRET_KEY": "s" * 40}, env_file=None)
    with pytest.raises(ConfigError, match="PRIVACY_NOTICE_VERSION"):
        load_settings({"PRIVACY_NOTICE_VERSION": "x" * 33, "SECRET_KEY": "s" * 40}, env_file=None)
    with pytest.raises(ConfigError, match="SESSION_RETENTION_DAYS: must be greater than zero"):
        load_settings({"SESSION_RETENTION_DAYS": "0", "SECRET_KEY": "s" * 40}, env_file=None)


def test_logs_are_json_in_production_and_text_in_development() -> None:
    key = {"SECRET_KEY": "s" * 40}
    assert load_settings(key, env_file=None).log_style == "text"
    assert load_settings({**key, "LOG_FORMAT": "json"}, env_file=None).log_style == "json"
    production = load_settings(
        {
            **key,
            "ENV": "production",
            "PAYMENT_PROVIDER": "tests.acquirer",
            "PAYMENT_WEBHOOK_SECRET": "w" * 32,
        },
        env_file=None,
    )
    assert production.log_style == "json"


def test_malformed_env_file_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT 8000\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\.env:1"):
        read_env_file(env_file)


def test_the_default_company_requisites_pass_their_own_checks() -> None:
    settings = load_settings({"SECRET_KEY": "s" * 40}, env_file=None)
    assert inn_is_valid(settings.company_inn)
    assert account_key_is_valid(
        settings.company_settlement_account, settings.company_bic, correspondent=False
    )
    assert account_key_is_valid(
        settings.company_correspondent_account, settings.company_bic, correspondent=True
    )


def test_check_digits_of_real_requisites() -> None:
    # Sberbank's published requisites: INN 7707083893, BIC 044525225,
    # correspondent account 30101810400000000225.
    assert inn_is_valid("7707083893")
    assert not inn_is_valid("7707083894")
    assert not inn_is_valid("770708389")
    assert not inn_is_valid("77070838９3")  # a full-width digit is not a digit here
    assert account_key_is_valid("30101810400000000225", "044525225", correspondent=True)
    assert not account_key_is_valid("30101810500000000225", "044525225", correspondent=True)
    assert not account_key_is_valid("3010181040000000022", "044525225", correspondent=True)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COMPANY_INN", "5260123452"),
        ("COMPANY_INN", "526012345"),
        ("COMPANY_KPP", "52600100"),
        ("COMPANY_BIC", "04220277"),
        ("COMPANY_BIC", "04220277x"),
        ("COMPANY_CORRESPONDENT_ACCOUNT", "30101810800000000777"),
        ("COMPANY_SETTLEMENT_ACCOUNT", "40702810142000012345"),
        ("COMPANY_SETTLEMENT_ACCOUNT", "4070281004200001234"),
        ("COMPANY_NAME", ""),
        ("COMPANY_NAME", "Я" * 161),
        ("COMPANY_BANK_NAME", "Б" * 46),
    ],
)
def test_bad_company_requisites_are_a_startup_error(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value, "SECRET_KEY": "s" * 40}, env_file=None)


def test_a_bic_change_needs_matching_accounts() -> None:
    with pytest.raises(ConfigError, match="COMPANY_CORRESPONDENT_ACCOUNT"):
        load_settings({"COMPANY_BIC": "044525225", "SECRET_KEY": "s" * 40}, env_file=None)
    settings = load_settings(
        {
            "COMPANY_BIC": "044525225",
            "COMPANY_CORRESPONDENT_ACCOUNT": "30101810400000000225",
            "COMPANY_SETTLEMENT_ACCOUNT": "40702810200000012345",
            "SECRET_KEY": "s" * 40,
        },
        env_file=None,
    )
    assert settings.company_bic == "044525225"


def test_mail_settings_are_checked() -> None:
    base = {"SECRET_KEY": "s" * 40}
    with pytest.raises(ConfigError, match="SMTP_TLS: expected none, starttls or tls"):
        load_settings({**base, "SMTP_TLS": "ssl"}, env_file=None)
    with pytest.raises(ConfigError, match="MAIL_FROM: 'kabinet' is not an e-mail address"):
        load_settings({**base, "MAIL_FROM": "kabinet"}, env_file=None)
    with pytest.raises(ConfigError, match="MAIL_BATCH_SIZE: must be greater than zero"):
        load_settings({**base, "MAIL_BATCH_SIZE": "0"}, env_file=None)
    with pytest.raises(ConfigError, match="MAIL_WORKER_IN_PROCESS: cannot read 'maybe'"):
        load_settings({**base, "MAIL_WORKER_IN_PROCESS": "maybe"}, env_file=None)
    ok = load_settings(
        {**base, "MAIL_FROM": "ЛК <lk@энерго.рф>", "MAIL_WORKER_IN_PROCESS": "false"},
        env_file=None,
    )
    assert ok.mail_worker_in_process is False
    assert ok.smtp_tls == "starttls"


def test_production_needs_a_real_acquirer_and_a_webhook_secret(tmp_path: Path) -> None:
    production = {"ENV": "production", "SECRET_KEY": "k" * 40, "PAYMENT_WEBHOOK_SECRET": "w" * 40}
    with pytest.raises(ConfigError, match="PAYMENT_PROVIDER: required"):
        load_settings(production, env_file=None)
    with pytest.raises(ConfigError, match="sandbox takes no money"):
        load_settings({**production, "PAYMENT_PROVIDER": "sandbox"}, env_file=None)
    with pytest.raises(ConfigError, match="no acquirer module 'nopay'"):
        load_settings({**production, "PAYMENT_PROVIDER": "nopay"}, env_file=None)
    with pytest.raises(ConfigError, match="PAYMENT_WEBHOOK_SECRET"):
        load_settings(
            {**production, "PAYMENT_PROVIDER": "tests.acquirer", "PAYMENT_WEBHOOK_SECRET": ""},
            env_file=None,
        )
    development = load_settings({"VAR_DIR": str(tmp_path)}, env_file=None)
    assert development.payment_provider == ""  # the sandbox, outside production
    assert payment_provider_name(development) == "sandbox" and online_payments(development)


def test_production_may_run_without_online_payments(tmp_path: Path) -> None:
    production = {"ENV": "production", "SECRET_KEY": "k" * 40}
    # Nothing configured stays an error, and it names both ways out.
    with pytest.raises(ConfigError) as nothing:
        load_settings(production, env_file=None)
    assert "yookassa" in str(nothing.value) and "PAYMENT_PROVIDER=none" in str(nothing.value)
    # `none` needs no webhook secret: no acquirer notifies us.
    off = load_settings({**production, "PAYMENT_PROVIDER": "none"}, env_file=None)
    assert off.is_production and not online_payments(off)
    assert payment_provider_name(off) == "none"
    # Outside production `none` is a choice too (a staging copy of a deployment).
    assert not online_payments(
        load_settings({"PAYMENT_PROVIDER": " none ", "VAR_DIR": str(tmp_path)}, env_file=None)
    )


def test_the_webhook_secret_is_needed_only_by_acquirers_that_sign_with_it() -> None:
    production = {"ENV": "production", "SECRET_KEY": "k" * 40, "PAYMENT_WEBHOOK_SECRET": ""}
    yookassa = {"PAYMENT_PROVIDER": "yookassa", "YOOKASSA_SHOP_ID": "1", "YOOKASSA_SECRET_KEY": "s"}
    # YooKassa signs nothing (its notifications are checked by address and with its API)
    settings = load_settings({**production, **yookassa}, env_file=None)
    assert settings.is_production and not needs_webhook_secret(settings)
    # An acquirer that signs with it still needs it
    with pytest.raises(ConfigError, match="PAYMENT_WEBHOOK_SECRET: required when ENV=production"):
        load_settings({**production, "PAYMENT_PROVIDER": "tests.acquirer"}, env_file=None)


@pytest.mark.parametrize(
    "module", sorted(p.stem for p in (ROOT / "payments" / "providers").glob("[!_]*.py"))
)
def test_an_acquirer_without_the_webhook_secret_never_reads_it(module: str) -> None:
    """UNSIGNED_PROVIDERS lists exactly the acquirer modules that do not use
    PAYMENT_WEBHOOK_SECRET (payments.signing), so production never starts one whose
    notifications would be checked with a secret derived from SECRET_KEY."""
    source = (ROOT / "payments" / "providers" / f"{module}.py").read_text()
    signs = "payments.signing" in source or "webhook_secret" in source
    assert signs == (module not in UNSIGNED_PROVIDERS), module


def test_reading_window_and_limits_are_checked(tmp_path: Path) -> None:
    base = {"VAR_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="READING_WINDOW"):
        load_settings({**base, "READING_WINDOW_START_DAY": "27"}, env_file=None)
    with pytest.raises(ConfigError, match="READING_WINDOW"):
        load_settings({**base, "READING_WINDOW_END_DAY": "32"}, env_file=None)
    with pytest.raises(ConfigError, match="READING_MAX_FACTOR"):
        load_settings({**base, "READING_MAX_FACTOR": "0"}, env_file=None)
    with pytest.raises(ConfigError, match="READING_REMINDER_HOUR"):
        load_settings({**base, "READING_REMINDER_HOUR": "24"}, env_file=None)
    with pytest.raises(ConfigError, match="READING_REMINDER_DAYS_BEFORE_CLOSE"):
        load_settings({**base, "READING_REMINDER_DAYS_BEFORE_CLOSE": "-1"}, env_file=None)
    with pytest.raises(ConfigError, match="READING_REMINDER_POLL_SECONDS"):
        load_settings({**base, "READING_REMINDER_POLL_SECONDS": "0"}, env_file=None)
    with pytest.raises(ConfigError, match="PAYMENT_MAX_AMOUNT"):
        load_settings({**base, "PAYMENT_MAX_AMOUNT": "-1"}, env_file=None)
