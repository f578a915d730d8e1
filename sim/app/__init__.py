"""The teaching app (extra ``[app]``): :mod:`~sim.app.teaching` (controls, presets, the twin model and the
page; ``solara run sim.app.teaching``) and its figures (:mod:`~sim.app.components`). Imports from the model
layer and below."""

from sim.runtime.extras import require

# before solara and mesa.visualization are imported: a missing extra is one line naming the install
require("app", "The teaching app")
