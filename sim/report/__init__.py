"""The presentation layer for studies: the advisory-group report (:mod:`~sim.report.advisory`, extra
``[report]``), the study command that ends with it (:mod:`~sim.report.command`) and the generated tables of
``docs/`` (:mod:`~sim.report.doc_tables`). Imports from the analysis layer and below."""
