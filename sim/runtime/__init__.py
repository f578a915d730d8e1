"""The bottom layer: process lifetime (:mod:`~sim.runtime.processes`), memory limits
(:mod:`~sim.runtime.limits`), owned temporaries and atomic writes (:mod:`~sim.runtime.temporaries`), the
errors whose message is for the user (:mod:`~sim.runtime.errors`) and optional features
(:mod:`~sim.runtime.extras`). Standard library only (numpy at most); imports nothing of ``sim``'s above it."""
