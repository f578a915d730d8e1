"""The analysis layer: SALib wrappers and the model as a function of its parameters
(:mod:`~sim.analysis.sensitivity`), the sensitivity study's stages (:mod:`~sim.analysis.study`) and its
command (:mod:`~sim.analysis.study_run`), scenario discovery (:mod:`~sim.analysis.discovery`, extra
``[discovery]``), the study's figures (:mod:`~sim.analysis.figures`) and the model's patterns
(:mod:`~sim.analysis.patterns`). Imports from the sweep layer and below."""
