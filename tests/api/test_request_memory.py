"""What a request leaves behind: its objects go when it ends, by reference counting,
not at the garbage collector's next pass (which then stalls some later request)."""

from __future__ import annotations

import gc
import weakref

from config import Settings
from resolvers.dataloaders import Loaders


def test_a_requests_loaders_are_freed_without_the_collector() -> None:
    gc.disable()
    try:
        loaders = Loaders(Settings())
        assert loaders.questions and loaders.nodes  # the loaders made on first use too
        gone = weakref.ref(loaders)
        del loaders
        assert gone() is None
    finally:
        gc.enable()
