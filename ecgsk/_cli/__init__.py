"""The pieces of the ``ecgsk`` command (:mod:`ecgsk.cli` is the entry point)."""
