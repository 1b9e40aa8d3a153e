"""Devices: a short human name from the User-Agent (for the sessions list), and the signed
cookie by which a device that logged into a cabinet is known to it again (login throttle)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from config import get_settings

_APPS = (
    (re.compile(r"kabinet-ios/([\d.]+)", re.I), "kabinet app {0} (iOS)"),
    (re.compile(r"kabinet-android/([\d.]+)", re.I), "kabinet app {0} (Android)"),
)
_BROWSERS = (
    ("YaBrowser", "Yandex Browser"),
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    if not user_agent:
        return "Unknown device"
    for pattern, label in _APPS:
        match = pattern.search(user_agent)
        if match:
            return label.format(match[1])
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:60]


# ---------------------------------------------------------------- known devices

DEVICE_COOKIE_DAYS = 400  # the longest a browser keeps a cookie (Chrome caps it there)
_REMEMBERED_CABINETS = 10  # a shared family computer; older ones are forgotten first
_DEVICE_SALT = "kabinet.device"


@dataclass(frozen=True)
class Device:
    """A browser or app that has logged in before: a random id and the cabinets it logged
    into, signed into a long-lived cookie (SECURITY.md 24). Only a device that has logged
    into a cabinet is known *to that cabinet*: a fresh id costs an attacker nothing, a
    successful login to the victim's cabinet costs the password."""

    id: str
    cabinets: tuple[int, ...] = ()

    def knows(self, cabinet_id: int) -> bool:
        return cabinet_id in self.cabinets

    def remembering(self, cabinet_id: int) -> Device:
        kept = [c for c in self.cabinets if c != cabinet_id][-(_REMEMBERED_CABINETS - 1) :]
        return Device(self.id, (*kept, cabinet_id))


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt=_DEVICE_SALT)


def new_device() -> Device:
    return Device(secrets.token_urlsafe(16))


def device_cookie(device: Device) -> str:
    return _serializer().dumps({"d": device.id, "c": list(device.cabinets)})


def read_device_cookie(value: str | None) -> Device | None:
    """The device a cookie names, or None for a missing, forged or malformed one."""
    if not value or len(value) > 400:
        return None
    try:
        data = _serializer().loads(value)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    device_id, cabinets = data.get("d"), data.get("c")
    if not isinstance(device_id, str) or not 0 < len(device_id) <= 64:
        return None
    if not isinstance(cabinets, list) or not all(type(c) is int for c in cabinets):
        return None
    return Device(device_id, tuple(cabinets[-_REMEMBERED_CABINETS:]))
