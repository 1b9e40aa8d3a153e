from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version


def version() -> str:
    try:
        return package_version("kabinet")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"
