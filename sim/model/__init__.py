"""The model layer: the alliance model's world, mechanisms and programme theories, run two ways.

- :mod:`sim.model.alliance` the readable Mesa model (:class:`AllianceModel`) and :mod:`sim.model.agents`;
- :mod:`sim.model.core` the vectorised core (``simulate``), the same rules over batches of scenarios;
- shared by both: :mod:`~sim.model.draws` (counter-based random numbers), :mod:`~sim.model.world` (initial
  world), the mechanisms (:mod:`~sim.model.relationships`, :mod:`~sim.model.services`,
  :mod:`~sim.model.commissioning`, :mod:`~sim.model.pathways`, :mod:`~sim.model.logistic`), the programme
  theories (:mod:`sim.model.theories`), the month's call sequence (:mod:`~sim.model.month`) and the outcomes
  (:mod:`~sim.model.outcomes`).

Imports only from :mod:`sim.params` and :mod:`sim.runtime`. Nothing is imported here: ``import
sim.model.world`` does not load Mesa or xarray.
"""
