"""The personal-data job every server process runs (PRIVACY_JOB_SECONDS): erase the
cabinets whose grace period ended, build the data exports asked for, delete the exports
whose link ended. Several processes may run it at once: each step claims its rows first
(services.privacy.deletion.erase_due, services.privacy.export.build_due), so nothing is
done twice."""

from __future__ import annotations

import logging

from services.privacy import deletion, export

log = logging.getLogger("kabinet")


async def run_once(worker: str = "") -> int:
    """One round; returns how many cabinets were erased and exports built."""
    erased = await deletion.erase_due()
    built = await export.build_due(worker)
    purged = await export.purge_expired()
    if erased or built or purged:
        log.info(
            "personal data: %d cabinet(s) erased, %d export(s) built, %d expired export(s) deleted",
            erased,
            built,
            purged,
        )
    return erased + built
