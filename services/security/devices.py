"""A short human name for a device from its User-Agent, for the sessions list."""

from __future__ import annotations

import re

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
