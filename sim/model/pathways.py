"""Care pathways: service users' need episodes walked through providers, and fragmentation counted from them.

Each month every locality sends :data:`EPISODES` sampled need episodes through its providers. An
episode is simple (one component) or, with chance ``need_complexity``, complex: 2 to D components in
consecutive need domains, starting from a domain drawn from the locality's need profile. Each
component goes to a provider:

- after the first, the provider that has the person keeps the next component with chance
  ``keep`` (its role flexibility, IPT7, or the locality team, IPT3); otherwise
- a provider is drawn in proportion to its capacity in that domain in that locality.

A change of provider is a **handoff**. The three components of fragmentation are distinct: **gaps** are
the share of handoffs that are lost (safety), **duplication** the share of completed (not lost) handoffs followed
by a repeated assessment (waste), **discontinuity** ``1 - COC`` of each episode's contact sequence (how many
providers a person passes through), over episodes of more than one contact (COC is undefined for one). A
handoff is *lost* (no one takes responsibility)
with chance ``handoff_loss × (1 + cross-sector penalty) × (1 + pressure_loss × pressure) × (1 - coordination)``
(``handoff_loss`` as :func:`sim.model.phases.handoff_conditions` gives it: raised where an alliance has changed roles
in a culture not ready for it, IPT7): stretched services (last month's unmet share) drop more referrals;
coordination combines the pair's
informal cooperation (trust and effort), the locality's formal pathways (IPT1), community navigation
(IPT3) and the accountability that monitoring brings (either mode). A completed handoff is
**duplicated** (the receiving provider repeats the
assessment) with chance ``reassessment × practice × (1 - information shared)``.

From each episode's actual contact sequence: Bice-Boxerman continuity of care
``COC = (Σ n_j² - n) / (n (n - 1))`` and usual-provider continuity ``UPC = max n_j / n`` (n contacts,
n_j with provider j; Bice & Boxerman 1977, Med Care 15(4):347-349).

Every draw is keyed by (seed, month, locality, episode, component) (:func:`sim.model.draws.uniform3`), so a
locality's pathways are the same numbers in the Mesa model (one community at a time) and in the core. The formulas
below are the chances and counts; the walk that draws them, fast, is :func:`sim.engine.walk.walk_scenario`.
"""

from __future__ import annotations

from sim.engine.compiled import formula
from sim.model import constants as kc
from sim.model.services import share

#: Episodes sampled per locality and month (a sampling resolution, not a model constant).
EPISODES = 12

#: Counts returned per locality by the walk (:func:`sim.engine.walk.walk_scenario`).
COUNTS = ("episodes", "gap_episodes", "components", "duplicated", "handoffs", "kept", "later",
          "multi", "coc", "upc", "discontinuity", "lost")


# --- a handoff: lost (a gap) or followed by a repeated assessment (duplication) ------------------------------
@formula
def pair_informal(trust_ab, trust_ba, effort_a, effort_b):
    """Informal cooperation of the two providers a handoff joins: their mutual trust times both efforts."""
    return 0.5 * (trust_ab + trust_ba) * effort_a * effort_b


@formula
def cross_sector_weight(k, whole_system):
    """Extra chance of loss and repetition at a cross-sector handoff (different records, cultures), less what
    whole-system working (IPT2) has removed."""
    return k[kc.CROSS_SECTOR_PENALTY] * (1.0 - whole_system)


@formula
def handoff_penalty(cross_weight, cross):
    """Multiplier of a handoff's chances of loss and repetition: 1, or more across sectors (``cross`` 1)."""
    return 1.0 + cross_weight * cross


@formula
def stretched_loss(k, handoff_loss, pressure):
    """Chance of losing an uncoordinated handoff in a locality whose services are stretched (``pressure``: last
    month's unmet share): stretched services drop more referrals."""
    return handoff_loss * (1.0 + k[kc.PRESSURE_LOSS] * pressure)


@formula
def unmanaged_share(k, navigation, formal, accountability):
    """Share of a locality's handoff losses that nothing prevents: not community navigation (IPT3), not formal
    joint pathways (IPT1), not the accountability that monitored contracts bring."""
    return (1.0 - navigation) * (1.0 - k[kc.FORMAL_REACH] * formal) * (1.0 - accountability)


@formula
def loss_chance(stretched, penalty, informal, unmanaged, informal_reach):
    """Chance that a handoff is lost (no one takes responsibility): the locality's stretched loss, the
    cross-sector penalty, less what the pair's informal cooperation (up to ``informal_reach``, the constant
    ``informal_reach``) and the locality's coordination prevent."""
    return stretched * penalty * (1.0 - informal_reach * informal) * unmanaged


@formula
def shared_records(k, formal):
    """Share of a repeat assessment that records shared through a locality's formal pathways can prevent."""
    return k[kc.SHARED_RECORDS] * formal


@formula
def information_shared(records, alignment, unaligned_share):
    """Information shared at a handoff: the locality's shared records, used fully by a receiving provider aligned
    with the common aim (IPT4) and in part (``unaligned_share``, the constant ``unaligned_sharing_share``) by one
    that is not."""
    return records * (unaligned_share + (1.0 - unaligned_share) * alignment)


@formula
def repeat_chance(reassessment, practice, shared, penalty):
    """Chance that a completed handoff is followed by a repeated assessment: the receiving provider's habit of
    repeating (``practice``: paid per activity), less what shared information makes unnecessary."""
    return reassessment * practice * (1.0 - shared) * penalty


# --- continuity and fragmentation --------------------------------------------------------------------------
@formula
def continuity_of_care(same_provider_pairs, contacts):
    """Bice-Boxerman continuity of care of an episode: ``(Σ n_j² - n) / (n (n - 1))``, written with the number
    of pairs of its contacts with the same provider."""
    return 2.0 * same_provider_pairs / (contacts * (contacts - 1.0))


@formula
def usual_provider_continuity(usual, contacts):
    """Usual-provider continuity of an episode: the share of its contacts with its most-seen provider."""
    return usual / contacts


@formula
def fragmentation(gaps, duplication, discontinuity):
    """Fragmentation (0-1): the mean of its three components, each counted from the care pathways."""
    return (gaps + duplication + discontinuity) / 3.0


@formula
def fragmentation_shares(episodes, gap_episodes, handoffs, lost, duplicated, discontinuity, multi):
    """A locality's fragmentation from its month's counts: gaps as the share of handoffs lost; duplication as the
    share of completed (not lost) handoffs followed by a repeated assessment (a lost handoff cannot be repeated, so
    a share over all handoffs would count losses as less duplication); discontinuity as ``1 - COC`` over episodes
    with more than one contact (COC is undefined for one contact, Bice & Boxerman 1977: counting simple episodes
    as continuous would make discontinuity measure how complex need is, not how care is joined up); each 0 when
    there was nothing to count; the share of episodes with a gap per episode."""
    return (share(lost, handoffs, 0.0), share(duplicated, handoffs - lost, 0.0), share(discontinuity, multi, 0.0),
            gap_episodes / episodes)
