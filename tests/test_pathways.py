"""The care-pathway walk against a plain reference written straight from its description.

The compiled walk (:func:`sim.engine.walk.walk_scenario`) is shared by the Mesa model and the core, so
their agreement cannot catch a mistake in it. Here a slow, obvious version, one episode at a time with
ordinary branches and numpy's specification of the draws, must give the same counts exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import walk as engine
from sim.model import constants as kc
from sim.model import pathways as pw
from sim.model.draws import Purpose, uniform3

S, L, P = 6, 3, 7
K = kc.constant_matrix([()])[0]  # the registry's constants


def constant(name: str) -> float:
    return float(K[kc.index(name)])


def reference_walk(seed, month, complexity, profile_cdf, prob, alias, keep, trust, effort, cross, navigation, formal,
                   pressure, accountability, whole_system, handoff_loss, reassessment, practice, alignment, D):
    """One scenario's counts ``(L, len(COUNTS))``, episode by episode (the pathways module's docstring)."""
    counts = np.zeros((L, len(pw.COUNTS)))

    def draw(u, loc, domain):
        x = u * P
        column = min(int(x), P - 1)
        return column if x - column < prob[loc, domain, column] else int(alias[loc, domain, column])

    for loc in range(L):
        for e in range(pw.EPISODES):
            key = loc * pw.EPISODES + e
            u_complex, u_size, u_start = (float(v) for v in uniform3(np.uint64(seed), month, Purpose.EPISODE, key, 0))
            size = 2 + int(u_size * (D - 1)) if u_complex < complexity else 1
            first = int(np.sum(profile_cdf[loc, :D - 1] < u_start))
            contacts = [draw(float(uniform3(np.uint64(seed), month, Purpose.CONTACT, key, 0)[0]), loc, first)]
            kept = handoffs = lost = repeated = 0
            for k in range(1, size):
                u, u_loss, u_repeat = (float(v) for v in uniform3(np.uint64(seed), month, Purpose.CONTACT, key, k))
                prev, stay = contacts[-1], keep[loc, contacts[-1]]
                if u < stay:
                    now, kept = prev, kept + 1
                else:
                    now = draw(min((u - stay) / (1.0 - stay), 1.0), loc, (first + k) % D)
                if now != prev:
                    handoffs += 1
                    penalty = 1.0 + constant("cross_sector_penalty") * (1.0 - whole_system) * cross[prev, now]
                    informal = 0.5 * (trust[prev, now] + trust[now, prev]) * effort[prev] * effort[now]
                    unmanaged = ((1 - navigation[loc]) * (1 - constant("formal_reach") * formal[loc])
                                 * (1 - accountability))
                    loss = (handoff_loss * (1 + constant("pressure_loss") * pressure[loc]) * penalty
                            * (1 - constant("informal_reach") * informal))
                    sharing = constant("unaligned_sharing_share")
                    if u_loss < loss * unmanaged:
                        lost += 1
                    elif u_repeat < (reassessment * practice[now] * penalty * (
                            1 - constant("shared_records") * formal[loc] * (sharing + (1 - sharing) * alignment[now]))):
                        repeated += 1
                contacts.append(now)
            row = dict.fromkeys(pw.COUNTS, 0.0)
            row.update(episodes=1, gap_episodes=lost > 0, components=size)
            if size > 1:
                n_j = np.unique(contacts, return_counts=True)[1]
                coc = (np.sum(n_j**2) - size) / (size * (size - 1))
                row.update(duplicated=repeated, handoffs=handoffs, kept=kept, later=size - 1, multi=1, coc=coc,
                           upc=n_j.max() / size, discontinuity=1 - coc, lost=lost)
            counts[loc] += [row[name] for name in pw.COUNTS]
    return counts


@pytest.mark.parametrize("D", [2, 4, 6])
def test_compiled_walk_equals_the_reference(D):
    rng = np.random.default_rng(D)
    coverage = rng.random((S, P, L)) < 0.7
    coverage[:, 0, :] = True  # every locality has a provider
    capacity = rng.uniform(0.1, 1.0, (S, P, D))
    prob, pick = engine.choice_table(coverage.astype(float), capacity)
    need = rng.dirichlet(np.ones(D), (S, L))
    sector = rng.integers(0, 2, (S, P))
    inputs = dict(
        complexity=rng.uniform(0.2, 1.0, S), profile_cdf=engine.profile_table(need),
        keep=rng.uniform(0.0, 0.6, (S, L, P)), trust=rng.random((S, P, P)), effort=rng.random((S, P)),
        cross=(sector[:, :, None] != sector[:, None, :]).astype(float), navigation=rng.uniform(0, 0.6, (S, L)),
        formal=rng.random((S, L)), pressure=rng.uniform(0, 0.5, (S, L)), accountability=rng.uniform(0, 0.5, S),
        whole_system=rng.random(S), handoff_loss=rng.uniform(0.05, 0.5, S), reassessment=rng.uniform(0.1, 0.9, S),
        practice=rng.random((S, P)), alignment=rng.random((S, P)))
    seeds = rng.integers(0, 2**40, S).astype(np.uint64)
    for month in (0, 7):
        got = engine.walk(np.tile(K, (S, 1)), seeds, month, np.arange(L), choice=(prob, pick), n_domains=D, **inputs)
        for s in range(S):
            expected = reference_walk(seeds[s], month, D=D, prob=prob[s], alias=pick[s, ..., 0],
                                      **{k: (v[s] if np.ndim(v) else v) for k, v in inputs.items()})
            for k, name in enumerate(pw.COUNTS):
                np.testing.assert_allclose(got[name][s], expected[:, k], rtol=1e-12, atol=0, err_msg=name)
            assert got["handoffs"][s].sum() > 0 and got["multi"][s].sum() > 0  # the test exercised handoffs


def test_a_walk_needs_two_domains():
    # the schema forbids n_domains < 2; the public walk() says so too, rather than counting wrongly
    prob, pick = engine.choice_table(np.ones((1, 2, 1)), np.ones((1, 2, 1)))
    with pytest.raises(ValueError, match="n_domains=1: a care pathway needs at least 2 need domains"):
        engine.walk(K[None], np.zeros(1, dtype=np.uint64), 0, np.arange(1), complexity=0.5,
                    profile_cdf=np.ones((1, 1, 1)),
                choice=(prob, pick), keep=np.zeros((1, 1, 2)), trust=np.zeros((1, 2, 2)), effort=np.zeros((1, 2)),
                formal=0.0, navigation=0.0, pressure=0.0, accountability=0.0, cross=np.zeros((1, 2, 2)),
                whole_system=0.0, handoff_loss=0.1, reassessment=0.1, practice=np.zeros((1, 2)),
                alignment=np.zeros((1, 2)), n_domains=1)


def reference_pairing(weight):
    """Vose's pairing written plainly (``alias_table``'s docstring): ``(prob, alias)`` of one row."""
    P = len(weight)
    q = list(weight * (P / np.sum(weight)))
    prob, alias, unfinished = [1.0] * P, list(range(P)), list(range(P))
    for _ in range(P - 1):
        small = min(unfinished, key=lambda j: q[j])  # min and max return the first of ties
        large = max(unfinished, key=lambda j: q[j])
        prob[small], alias[small] = min(q[small], 1.0), large
        q[large] -= 1.0 - q[small]
        unfinished.remove(small)
    return np.array(prob), np.array(alias)


@pytest.mark.parametrize("P", [1, 2, 3, 10, 37])
def test_alias_tables_equal_the_plain_pairing_and_draw_in_proportion(P):
    rng = np.random.default_rng(P)
    weight = np.concatenate([rng.uniform(0.01, 1.0, (40, P)), rng.integers(0, 3, (40, P)) + 0.0,  # ties, zeros
                             rng.pareto(1.0, (40, P))])
    weight[:, 0] += 0.5  # no row without weight
    prob, pick = engine.alias_table(weight)
    for r in range(len(weight)):
        expected_prob, expected_alias = reference_pairing(weight[r])
        np.testing.assert_array_equal(prob[r], expected_prob)
        np.testing.assert_array_equal(pick[r, :, 0], expected_alias)
        np.testing.assert_array_equal(pick[r, :, 1], np.arange(P))
        # a uniform draw lands in column c with chance 1/P, keeps it with chance prob[c], else takes its alias
        chance = prob[r] / P + np.bincount(pick[r, :, 0], weights=(1.0 - prob[r]) / P, minlength=P)
        np.testing.assert_allclose(chance, weight[r] / weight[r].sum(), rtol=0, atol=1e-12)
