"""Regenerate the tables in docs/ from the parameter schema, the rule registry and the outcomes."""

from pathlib import Path

from sim.report.doc_tables import update

if __name__ == "__main__":
    docs = sorted((Path(__file__).resolve().parents[1] / "docs").glob("*.md"))
    changed = update(docs)
    print("updated: " + ", ".join(p.name for p in changed) if changed else "docs already up to date")
