"""Scenario discovery: which contexts produce a strong reduction in fragmentation.

PRIM (Friedman & Fisher 1999) through the maintained implementation in the EMA Workbench
(``ema_workbench.analysis.prim``), with each box chosen from the peeling trajectory's trade-off
between coverage and density (the point with the best harmonic mean of the two), not simply the
densest box; CART (scikit-learn) as a cross-check.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.runtime.extras import require

__all__ = ["PrimResult", "prim_boxes", "cart_rules", "plain_box", "box_restrictions", "region_rows"]


@dataclass
class PrimResult:
    boxes: pd.DataFrame  # one row per (box, restricted parameter): limits and quasi-p values
    stats: pd.DataFrame  # one row per box: coverage, density, mass, n, chosen trajectory point
    trajectories: pd.DataFrame  # every peeling step of every box
    base_rate: float


def _prim_module():
    require("discovery", "Scenario discovery (PRIM)")
    logging.getLogger("EMA").setLevel(logging.ERROR)
    with warnings.catch_warnings(), _plain_outer_frames():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


@contextmanager
def _plain_outer_frames() -> Iterator[None]:
    """While ema_workbench is imported: ``inspect.getouterframes`` without source lines.

    ema_workbench's ``method_logger`` decorator reads the name of the class being defined as
    ``inspect.getouterframes(inspect.currentframe())[1][3]`` for each of its ~30 decorated methods; the
    standard version also looks up every outer frame's source (scanning ``sys.modules`` for each import
    frame), which made ``import ema_workbench`` take 3-7 s. This version gives the same frames and names."""
    original = inspect.getouterframes

    def outer_frames(frame, context=1):
        frames = []
        while frame is not None:
            frames.append(inspect.FrameInfo(frame, frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name,
                                            None, None))
            frame = frame.f_back
        return frames

    inspect.getouterframes = outer_frames
    try:
        yield
    finally:
        inspect.getouterframes = original


def prim_boxes(x: pd.DataFrame, y: np.ndarray, *, max_boxes: int = 2, threshold_name: str = "y") -> PrimResult:
    """Find up to ``max_boxes`` PRIM boxes for the boolean outcome ``y`` over the inputs ``x``."""
    y = np.asarray(y, dtype=bool)
    if len(y) != len(x):
        raise ValueError(f"prim: {len(y)} outcomes for {len(x)} input rows")
    hits = int(y.sum())
    if hits == 0:
        raise ValueError(f"prim: no run reached {threshold_name}; PRIM has nothing to find (lower the threshold)")
    if hits == len(y):
        raise ValueError(f"prim: every run reached {threshold_name}; PRIM has nothing to separate "
                         "(raise the threshold)")
    prim = _prim_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x.reset_index(drop=True).astype(float), y)  # integer columns break its pasting
        boxes, stats, trajectories = [], [], []
        for k in range(max_boxes):
            box = finder.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory.copy()
            if len(traj) < 2 or traj["density"].iloc[-1] <= y.mean():
                break
            f1 = 2 * traj["coverage"] * traj["density"] / (traj["coverage"] + traj["density"])
            chosen = int(f1.idxmax())
            # a later box must still be mostly cases, or it describes noise rather than a scenario
            if k > 0 and traj["density"].iloc[chosen] < max(0.5, 1.5 * y.mean()):
                break
            box.select(chosen)
            summary, limits = box.inspect(chosen, style="data")[0]
            limits = limits.copy()
            limits.columns = ["min", "max", "qp_low", "qp_high"]
            limits.insert(0, "box", k + 1)
            boxes.append(limits.reset_index(names="parameter"))
            stats.append({"box": k + 1, "chosen_step": chosen, "coverage": float(summary["coverage"]),
                          "density": float(summary["density"]), "mass": float(summary["mass"]),
                          "n": int(summary["n"]), "restricted_dimensions": int(summary["res_dim"]),
                          "f1": float(f1.iloc[chosen])})
            trajectories.append(traj.assign(box=k + 1, f1=f1, chosen=traj.index == chosen))
    if not stats:
        raise ValueError(f"prim: found no box denser than the base rate for {threshold_name}")
    return PrimResult(pd.concat(boxes, ignore_index=True), pd.DataFrame(stats),
                      pd.concat(trajectories, ignore_index=True), float(y.mean()))


def cart_rules(x: pd.DataFrame, y: np.ndarray, *, max_depth: int = 3, seed: int = 0) -> tuple[str, pd.DataFrame, float]:
    """A shallow classification tree as a cross-check: its rules as text, its leaves (conditions, n,
    share reaching the threshold) and its 5-fold cross-validated accuracy."""
    require("discovery", "Scenario discovery's CART cross-check")
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier, export_text

    y = np.asarray(y, dtype=bool)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(5, len(y) // 50), random_state=seed)
    tree.fit(x, y)
    accuracy = float(cross_val_score(tree, x, y, cv=5).mean())
    t = tree.tree_
    leaves = []

    def walk(node: int, conditions: list[str]) -> None:
        if t.children_left[node] == -1:
            counts = t.value[node][0]
            share = counts[1] / counts.sum() if len(counts) > 1 else float(tree.classes_[0])
            leaves.append({"conditions": " and ".join(conditions) or "(all)", "n": int(t.n_node_samples[node]),
                           "share_reaching_threshold": float(share)})
            return
        name, cut = x.columns[t.feature[node]], t.threshold[node]
        walk(t.children_left[node], [*conditions, f"{name} <= {cut:.3g}"])
        walk(t.children_right[node], [*conditions, f"{name} > {cut:.3g}"])

    walk(0, [])
    text = export_text(tree, feature_names=list(x.columns), show_weights=True)
    table = pd.DataFrame(leaves).sort_values("share_reaching_threshold", ascending=False, ignore_index=True)
    return text, table, accuracy


#: A box restricts a factor when it cuts off at least this share of the factor's studied range (smaller cuts are
#: PRIM's peeling noise).
MEANINGFUL_CUT = 0.15
#: At most this many restrictions are named in plain words, the most significant first.
NAMED = 3


def box_restrictions(limits: pd.DataFrame, bounds: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """The factors a PRIM box really restricts (cutting at least :data:`MEANINGFUL_CUT` of the studied range),
    most significant first (PRIM's quasi-p value)."""
    from sim.params import Params

    rows = []
    for _, r in limits.iterrows():
        name = r["parameter"]
        low, high = bounds.get(name, (Params.spec(name).low, Params.spec(name).high))
        width = high - low
        cut = ((r["min"] - low) + (high - r["max"])) / width if width > 0 else 0.0
        if cut >= MEANINGFUL_CUT:
            qps = [v for v in (r.get("qp_low"), r.get("qp_high")) if v is not None and np.isfinite(v)]
            rows.append({"parameter": name, "min": float(r["min"]), "max": float(r["max"]),
                         "cut_low": bool(r["min"] - low >= MEANINGFUL_CUT * width / 2),
                         "cut_high": bool(high - r["max"] >= MEANINGFUL_CUT * width / 2),
                         "qp": min(qps) if qps else float("nan"), "cut": cut})
    table = pd.DataFrame(rows, columns=["parameter", "min", "max", "cut_low", "cut_high", "qp", "cut"])
    return table.sort_values(["qp", "cut"], ascending=[True, False], na_position="last").reset_index(drop=True)


def plain_box(restrictions: pd.DataFrame) -> str:
    """A PRIM box's restrictions (:func:`box_restrictions`) in plain words ("senior leaders' commitment at most
    0.35 and initial trust at least 0.4"), with the schema's labels, most significant first."""
    from sim.params import Params

    parts = []
    for _, r in restrictions.iterrows():
        spec = Params.spec(r["parameter"])
        label = spec.label[0].lower() + spec.label[1:] if spec.label else r["parameter"].replace("_", " ")
        if r["cut_low"] and r["cut_high"]:
            parts.append(f"{label} between {r['min']:.2g} and {r['max']:.2g}")
        elif r["cut_high"]:
            parts.append(f"{label} at most {r['max']:.2g}")
        else:
            parts.append(f"{label} at least {r['min']:.2g}")
    if not parts:
        return "anywhere in the ranges studied"
    named = parts[:NAMED]
    text = ", ".join(named[:-1]) + (" and " if len(named) > 1 else "") + named[-1]
    if len(parts) > NAMED:
        rest = len(parts) - NAMED
        text += f" (with looser limits on {rest} other factor{'s' if rest > 1 else ''})"
    return text


def region_rows(question: str, meaning: str, x: pd.DataFrame, y: np.ndarray,
                bounds: dict[str, tuple[float, float]], *, max_boxes: int = 2, seed: int = 0) -> list[dict]:
    """Rows of a study's ``failure_regions.csv`` for one question (e.g. "the alliance did worse on
    fragmentation"): each PRIM box with its coverage, density and plain words, and the CART cross-check's
    accuracy; one row saying so when no run (or every run) answers yes."""
    y = np.asarray(y, dtype=bool)
    common = {"question": question, "meaning": meaning, "runs": len(y), "hits": int(y.sum()),
              "base_rate": float(y.mean())}
    nan = float("nan")

    def no_region(plain: str) -> list[dict]:
        return [{**common, "box": 0, "coverage": nan, "density": nan, "mass": nan, "n": 0, "restricted": "",
                 "plain": plain, "cart_accuracy": nan}]

    if not y.any() or y.all():
        return no_region("in none of the runs" if not y.any() else "in every run")
    try:
        result = prim_boxes(x, y, max_boxes=max_boxes, threshold_name=meaning)
    except ValueError:  # no box denser than the base rate: the answer is spread over the whole space
        return no_region("spread over the ranges studied, in no clear region")
    accuracy = cart_rules(x, y, seed=seed)[2]
    rows = []
    for _, st in result.stats.iterrows():
        restrictions = box_restrictions(result.boxes[result.boxes["box"] == st["box"]], bounds)
        restricted = "; ".join(f"{r['parameter']} in [{r['min']:.4g}, {r['max']:.4g}]"
                               for _, r in restrictions.iterrows())
        rows.append({**common, "box": int(st["box"]), "coverage": float(st["coverage"]),
                     "density": float(st["density"]), "mass": float(st["mass"]), "n": int(st["n"]),
                     "restricted": restricted, "plain": plain_box(restrictions), "cart_accuracy": accuracy})
    return rows
