"""The registry of the model's constants, as data: every number that shapes model behaviour, in one place.

Each entry records the default value, a plausible range (``low <= value <= high``), its unit, what it means, its
source (a citation from the code, ``docs/ODD.md`` or the modelling-sources notes, or "assumed") and what it
replaced when constants became data (``replaces``: a named module constant such as ``relationships.EFFORT_SLOPE``,
or a coefficient once written unnamed inside a formula). The rules read a constant from the scenario's constants
row (``k[kc.EFFORT_SLOPE]``, :mod:`sim.model.constants`); which functions read each one is found from the code
(:func:`sim.model.constants.constant_users`), not retyped here. Most constants are assumed; their ranges are the
plausible spans that the calibration and the sensitivity study vary them over (the patterns in ``docs/ODD.md``
constrain them jointly, not one by one).

Where two coefficients must sum to 1 (``0.25 + 0.75 * x``), only one is registered and the other is 1 minus it;
the four weights of the experience target, which sum to 1, are registered one by one.
Left out: sampling resolution (``pathways.EPISODES``), labels (``world.SECTORS``), draw purposes, engineering
constants (chunk sizes, cache lines) and pure arithmetic (means, ``1 - x``, n(n-1)/2, the lognormal mean
correction, months per year). Two constants that were defined but never read (``relationships.STAKE``,
``relationships.COMMITMENT_THRESHOLD``) were removed.

Entries are grouped by mechanism in the order a month uses them (the initial world first).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Constant:
    """One model constant: its default, a plausible range, unit, meaning, source, and what it replaced."""

    name: str  # snake_case, unique, domain words (e.g. "effort_slope", "commitment_offset")
    value: float  # the default (the literal the code held before constants became data)
    low: float  # plausible range (low <= value <= high)
    high: float
    unit: str  # e.g. "log-odds per unit", "per month", "share (0-1)", "weight", "multiplier"
    meaning: str  # one or two plain sentences
    source: str  # a citation from the code/docs/modelling-sources.md, or "assumed"
    replaces: str  # "module.NAME", or "module.function: <expression>" for a formerly unnamed coefficient

    @property
    def assumed(self) -> bool:
        """Whether the value is assumed ("assumed", "assumed; varied"), not taken from a source (a source may still
        say its size is assumed: "Gulati 1995 (...); size assumed")."""
        return self.source.strip().lower().startswith("assumed")


CONSTANTS: tuple[Constant, ...] = (
    # --- shared response functions (every programme theory's context gate) ---
    Constant("gate_slope", 19.4151, 6.0, 24.0, "log-odds per unit context",
             "Steepness of every context gate: how sharply a mechanism switches on as its context passes the "
             "rule's threshold.", "assumed", "logistic.GATE_SLOPE"),

    # --- initial world: need, sectors, capacity, coverage, trust (world.initial_world) ---
    Constant("base_need", 100.0, 50.0, 200.0, "need units per locality per month",
             "New need arriving in each locality each month; units are arbitrary, since every outcome is a share "
             "or a ratio.", "assumed", "world.BASE_NEED"),
    Constant("need_noise", 0.20173, 0.1, 0.4, "sd of log need",
             "Month-to-month randomness of new need (multiplicative, mean 1).", "assumed", "world.NEED_NOISE"),
    Constant("need_profile_floor", 0.955985, 0.25, 1.0, "relative weight",
             "Least weight a need domain has in a locality's need profile before normalising (a uniform draw "
             "adds up to 1 more); lower makes need more uneven across domains.", "assumed",
             "world.initial_world: profile = 0.5 + uniform(s3, 0, Purpose.NEED_PROFILE, loc[None, :, None], "
             "d[None, None, :])"),
    Constant("sector_size_nhs", 1.95282, 0.75, 3.0, "relative size (multiplier)",
             "Relative capacity of an NHS provider (capacity is rescaled to the funded total).", "assumed",
             "world.SECTOR_SIZE[0]"),
    Constant("sector_size_council", 0.663839, 0.6, 2.4, "relative size (multiplier)",
             "Relative capacity of a council social-care provider.", "assumed", "world.SECTOR_SIZE[1]"),
    Constant("sector_size_voluntary", 0.417156, 0.3, 1.2, "relative size (multiplier)",
             "Relative capacity of a voluntary/community provider.", "assumed", "world.SECTOR_SIZE[2]"),
    Constant("sector_size_private", 1.70303, 0.5, 2.0, "relative size (multiplier)",
             "Relative capacity of a private provider.", "assumed", "world.SECTOR_SIZE[3]"),
    Constant("secondary_capacity_share", 0.443783, 0.15, 0.6, "share (0-1)",
             "Capacity a provider has in a need domain other than its primary one, relative to its primary "
             "domain; the primary domain's extra is 1 minus it.", "assumed",
             "world.initial_world: (0.3 + 0.7 * primary)"),
    Constant("capacity_variation", 0.829658, 0.25, 1.0, "multiplier spread",
             "Width of the uniform random factor on each provider's capacity in each domain; the factor's floor is "
             "1 minus half of it, so its mean is 1.", "assumed",
             "world.initial_world: (0.75 + 0.5 * uniform(s3, 0, Purpose.CAPACITY, i[None, :, None], "
             "d[None, None, :]))"),
    Constant("home_focus", 0.315197, 0.3, 0.8, "share (0-1)",
             "Share of a provider's capacity spent in its home locality; the rest is spread evenly over all "
             "localities.", "assumed", "world.HOME_FOCUS"),
    Constant("cross_sector_distrust", 0.257892, 0.1, 0.5, "share (0-1)",
             "Most of a cross-sector pair's starting trust that may be missing (drawn uniformly up to this).",
             "assumed", "world.CROSS_SECTOR_DISTRUST"),

    # --- initial world: the state inherited from separate contracts (world.INHERITED; also each newcomer's) ---
    Constant("inherited_commitment_base", 0.181577, 0.15, 0.45, "level (0-1)",
             "Least commitment to joint working a provider starts with (or a newcomer arrives with); near the "
             "traditional steady state, so separate contracts do not drift.", "assumed",
             "world.INHERITED['commitment'][0]"),
    Constant("inherited_commitment_spread", 0.275583, 0.1, 0.3, "level (0-1)",
             "Range of the uniform draw added to the inherited commitment.", "assumed",
             "world.INHERITED['commitment'][1]"),
    Constant("inherited_alignment_base", 0.103316, 0.05, 0.2, "level (0-1)",
             "Least alignment with a common aim a provider starts with.", "assumed",
             "world.INHERITED['alignment'][0]"),
    Constant("inherited_alignment_spread", 0.111834, 0.05, 0.2, "level (0-1)",
             "Range of the uniform draw added to the inherited alignment.", "assumed",
             "world.INHERITED['alignment'][1]"),
    Constant("inherited_orientation_base", 0.0654252, 0.025, 0.1, "level (0-1)",
             "Least whole-system orientation a provider starts with.", "assumed",
             "world.INHERITED['orientation'][0]"),
    Constant("inherited_orientation_spread", 0.0958135, 0.05, 0.2, "level (0-1)",
             "Range of the uniform draw added to the inherited orientation.", "assumed",
             "world.INHERITED['orientation'][1]"),
    Constant("inherited_role_flexibility", 0.0470553, 0.01, 0.05, "level (0-1)",
             "Role flexibility every provider starts with: roles fixed by separate contracts.", "assumed",
             "world.INHERITED['role_flexibility']"),
    Constant("inherited_practice", 0.933491, 0.7, 1.0, "level (0-1)",
             "Habit of repeating assessments every provider starts with: 1 is full activity-paid practice.",
             "assumed", "world.INHERITED['practice']"),
    Constant("inherited_participation", 0.0975871, 0.05, 0.2, "level (0-1)",
             "Co-production participation every locality starts with.", "assumed", "world.INHERITED['participation']"),
    Constant("inherited_formal", 0.0926132, 0.02, 0.1, "level (0-1)",
             "Formal joint pathways every locality starts with.", "assumed", "world.INHERITED['formal']"),
    Constant("initial_experience", 0.380959, 0.3, 0.7, "level (0-1)",
             "Service-user experience every locality starts with.", "assumed",
             "world.initial_world: \"experience\": np.full((S, L), 0.5)"),
    Constant("stranger_trust", 0.487033, 0.25, 0.75, "share of initial trust",
             "Trust toward and from a newcomer (re-tendered or replacing an exit), as a share of the starting "
             "trust: no relationships yet.", "assumed", "world.STRANGER_TRUST"),

    # --- 1. commissioner: budget ---
    Constant("budget_cut_rate", 0.149739, 0.1, 0.3, "share of real budget per year at full austerity",
             "Share of the real budget cut each year at austerity 1, compounding monthly.", "assumed",
             "world.budget_factor: (1.0 - 0.2 * austerity)"),

    # --- 1. commissioner: governance overhead (commissioning.overhead, coordination_cost) ---
    Constant("monitoring_cost", 0.0356621, 0.01, 0.04, "share of capacity",
             "Capacity the commissioner's monitoring takes at full intensity, in either mode.", "assumed",
             "commissioning.MONITORING_COST"),
    Constant("trust_substitution", 0.775302, 0.5, 1.0, "share (0-1)",
             "Share of coordination cost that full trust between providers saves: trust substitutes for "
             "monitoring.", "Gulati 1995 (trust substitutes for monitoring); size assumed",
             "commissioning.TRUST_SUBSTITUTION"),
    Constant("admin_relief", 0.342887, 0.25, 0.75, "share (0-1)",
             "Share of coordination cost that established senior-backed arrangements save (administrative "
             "capacity at the centre).", "Bitterman & Koliba 2020 (administrative bottlenecks); size assumed",
             "commissioning.ADMIN_RELIEF"),
    Constant("half_cost_pairs", 47.3457, 22.5, 90.0, "partner pairs",
             "Number of partner pairs at which coordination cost is half its ceiling; the coordination_cost "
             "parameter is the cost at this many pairs (45 pairs: ten providers).",
             "Williamson 1985; Provan & Kenis 2008 (cost grows with partner pairs); value assumed",
             "commissioning.HALF_COST_PAIRS"),
    Constant("engagement_cost", 0.0158392, 0.01, 0.06, "share of capacity",
             "Capacity an alliance spends engaging its communities (forums, co-design, outreach) where it works "
             "locally (IPT3 at reference strength, place-based working present); spent whether or not the "
             "community has the assets to take part.",
             "Huxham & Vangen 2005 (collaborative inertia: joint work is slow and costly); size assumed",
             "new in issue 22: commissioning.overhead"),
    Constant("change_cost", 0.0472107, 0.01, 0.06, "share of capacity",
             "Capacity an alliance's transformation programme takes (redesigning roles, training, the "
             "disruption of changing who does what; IPT7 at reference strength); spent whether or not the "
             "culture is ready to change.",
             "Huxham & Vangen 2005; the seed's cultural shift (Redgate et al. 2023); size assumed",
             "new in issue 22: commissioning.overhead"),

    # --- 1. commissioner: leadership (IPT6) ---
    Constant("leadership", 0.162524, 0.075, 0.3, "log-odds drive",
             "Drive to effort and commitment of fully established, senior-backed arrangements at reference "
             "strength.", "assumed", "theories.culture.LEADERSHIP"),
    Constant("evaluation_support", 0.357967, 0.0, 0.6, "share (0-1)",
             "Share of the missing senior buy-in that robust monitoring and evaluation makes up for, at full "
             "monitoring: evaluation of joint work supports strategic commitment to the alliance.",
             "Redgate et al. 2023 (strategic commitment is supported through robust monitoring and evaluation); "
             "size assumed", "new in issue 22: theories.culture.ipt6_arrangements_target"),

    # --- 1. commissioner: pulls on effort (relationships.free_riding_pull, commissioning.own_priorities_pull) ---
    Constant("monitoring_restraint", 0.71143, 0.6, 1.0, "share (0-1)",
             "Share of free-riding on pooled reward that full monitoring of joint work holds back.", "assumed",
             "relationships.MONITORING_RESTRAINT"),
    Constant("trust_restraint", 0.824191, 0.5, 1.0, "share (0-1)",
             "Share of free-riding that full mutual trust holds back (shirking feels like betrayal).", "assumed",
             "relationships.TRUST_RESTRAINT"),
    Constant("austerity_self_interest", 0.93984, 0.25, 1.0, "multiplier per unit austerity",
             "How much full austerity strengthens the pull of each organisation's own priorities (0.5: by half).",
             "assumed", "commissioning.own_priorities_pull: (1.0 + 0.5 * austerity)"),

    # --- 2. providers choose effort (relationships.effort_propensity) ---
    Constant("effort_weight_commitment", 0.41706, 0.2, 0.6, "weight (drive per unit)",
             "Weight of a provider's commitment in its drive to put effort into joint work.",
             "Vangen & Huxham 2003 (commitment sustains effort); weight assumed",
             "relationships.effort_propensity: 0.4 * commitment"),
    Constant("effort_weight_trust", 0.113112, 0.1, 0.3, "weight (drive per unit)",
             "Weight of mean trust in partners in the effort drive.", "assumed",
             "relationships.effort_propensity: 0.2 * mean_trust"),
    Constant("effort_weight_commissioner", 0.142205, 0.05, 0.15, "weight (drive per unit)",
             "Weight of trust in the commissioner in the effort drive.", "assumed",
             "relationships.effort_propensity: 0.1 * trust_in_commissioner"),
    Constant("effort_threshold", 0.0859231, 0.05, 0.3, "drive",
             "Effort drive at which full effort is even odds; calibrated so separate contracts are stationary.",
             "assumed", "relationships.EFFORT_THRESHOLD"),
    Constant("effort_slope", 3.27634, 2.0, 8.0, "log-odds per unit drive",
             "How sharply effort responds to its drive.", "assumed",
             "relationships.EFFORT_SLOPE"),

    # --- 3. communities: navigation and who keeps a person's care (local, services.keep_chance) ---
    Constant("navigation", 0.419749, 0.3, 0.9, "share (0-1)",
             "Share of handoff losses that a fully connected, fully participating community prevents by "
             "carrying people between services.", "assumed", "theories.local.NAVIGATION"),
    Constant("role_reach", 0.168455, 0.1, 0.4, "share (0-1)",
             "Most of a later care component that a fully flexible provider takes on itself instead of handing "
             "it on (some care needs a specialist).", "assumed", "services.ROLE_REACH"),
    Constant("locality_team", 0.284062, 0.1, 0.4, "share (0-1)",
             "Share of a later care component that a locality team keeps at full tailoring.", "assumed",
             "services.LOCALITY_TEAM"),

    # --- 3. communities: care pathways, handoff loss and repeated assessment (pathways.walk_scenario) ---
    Constant("accountability", 0.16764, 0.15, 0.5, "share (0-1)",
             "Share of handoff losses that fully monitored, fully individual contracts prevent (someone owns "
             "each referral).", "assumed", "commissioning.ACCOUNTABILITY"),
    Constant("performance_gain", 0.536777, 0.0, 1.0, "relative increase",
             "How much more contracted activity a provider delivers per unit of capacity at full individual "
             "accountability: targets with sanctions raise measured output (waiting times fell in England under "
             "'targets and terror', Propper et al. 2010; partly by gaming, Bevan & Hood 2006). The counterfactual's "
             "performance management; an alliance's pooled budget diffuses it with accountability.",
             "Propper et al. 2010; Bevan & Hood 2006; size assumed; varied",
             "commissioning.productivity: accountability term (new)"),
    Constant("case_ownership", 0.231623, 0.0, 0.4, "share (0-1)",
             "Share of a person's later care components that the provider made accountable for them keeps, at full "
             "individual accountability (a named owner of the person's care under a monitored contract carries it "
             "on rather than referring on; the counterfactual's own route to continuity, which an alliance's pooled "
             "budget diffuses). 0 switches the route off; the calibration decides.", "assumed; varied",
             "services.keep_chance: accountability term (new)"),
    Constant("diffusion", 0.619247, 0.25, 0.75, "share (0-1)",
             "Share of individual accountability that a fully pooled budget diffuses.", "assumed",
             "commissioning.DIFFUSION"),
    Constant("diffusion_months", 19.5539, 1.0, 36.0, "months",
             "Months over which pooled payment diffuses individual accountability in full: staff move from their "
             "own contract's targets to shared outcomes as the pooled budget beds in, not on the first day.",
             "assumed; varied", "commissioning.accountability"),
    Constant("cross_sector_penalty", 0.725913, 0.5, 2.0, "relative increase",
             "Extra chance of loss and of repetition at a handoff across sectors (different records and "
             "cultures), before whole-system working removes it.", "assumed", "pathways.CROSS_SECTOR_PENALTY"),
    Constant("pressure_loss", 2.24933, 1.0, 4.0, "relative increase",
             "How much more often a handoff is lost into a fully stretched service (pressure = 1 - last "
             "month's access).", "assumed", "pathways.PRESSURE_LOSS"),
    Constant("informal_reach", 0.344634, 0.1, 0.5, "share (0-1)",
             "Most of a handoff's loss that informal cooperation of the pair (mutual trust times both efforts) "
             "prevents.", "assumed", "pathways.INFORMAL_REACH"),
    Constant("formal_reach", 0.216158, 0.15, 0.6, "share (0-1)",
             "Most of a handoff's loss that formal joint pathways prevent.", "assumed", "pathways.FORMAL_REACH"),
    Constant("shared_records", 0.347305, 0.2, 0.6, "share (0-1)",
             "Most of a repeat assessment that records shared through formal pathways prevent.", "assumed",
             "pathways.SHARED_RECORDS"),
    Constant("unaligned_sharing_share", 0.61169, 0.25, 0.75, "share (0-1)",
             "Share of the records sharing that formal pathways allow which reaches a receiving provider with no "
             "alignment; full alignment adds the rest (1 minus it).", "assumed",
             "pathways.walk_scenario: (0.5 + 0.5 * alignment[now])"),

    # --- 3. communities: demand and capacity (services, commissioning.productivity, month) ---
    Constant("self_help", 0.102235, 0.05, 0.3, "share (0-1)",
             "Share of new need that a fully participating, fully capable community meets itself.", "assumed",
             "services.SELF_HELP"),
    Constant("innovation_productivity", 0.151421, 0.1, 0.4, "share (0-1)",
             "Productivity gain at full innovation.", "assumed", "services.INNOVATION_PRODUCTIVITY"),
    Constant("duplication_waste", 0.512239, 0.25, 0.75, "share of a component",
             "Capacity a duplicated (repeated) assessment wastes, as a share of a care component (month.unwasted: "
             "times repeated assessments per component delivered).", "assumed",
             "services.DUPLICATION_WASTE"),

    # --- 3. communities: resolution and experience (services) ---
    Constant("tailoring_fit", 0.211042, 0.1, 0.4, "share (0-1)",
             "Share of served need whose resolution depends on services being tailored to the locality: untailored "
             "services resolve 1 minus it of what they serve, fully tailored ones all of it.", "assumed",
             "services.service_fit: 0.8 + 0.2 * tailoring"),
    Constant("experience_weight_continuity", 0.35, 0.25, 0.45, "weight",
             "Weight of continuity of care (1 - discontinuity) in service users' experience target. The four "
             "experience weights now sum to 1; their sum must stay at most 1 to keep experience in [0, 1].",
             "assumed", "services.experience_target: 0.35 * (1.0 - discontinuity)"),
    Constant("experience_weight_access", 0.25, 0.15, 0.35, "weight",
             "Weight of access in the experience target.", "assumed", "services.experience_target: 0.25 * access"),
    Constant("experience_weight_safety", 0.2, 0.1, 0.3, "weight",
             "Weight of care without gaps (1 - share of episodes with a gap) in the experience target.", "assumed",
             "services.experience_target: 0.2 * (1.0 - gaps)"),
    Constant("experience_weight_voice", 0.2, 0.1, 0.3, "weight",
             "Weight of residents' participation (a voice) in the experience target.", "assumed",
             "services.experience_target: 0.2 * participation"),
    Constant("experience_rate", 0.226973, 0.1, 0.4, "per month",
             "Monthly rate at which experience moves toward its target.", "assumed",
             "services.EXPERIENCE_RATE"),

    # --- 4. learning: the commissioner observes; reciprocity (commissioning) ---
    Constant("observation_noise", 0.40155, 0.25, 1.0, "sd of observed performance",
             "Noise of the commissioner's view of a provider's cooperation with no monitoring.", "assumed",
             "commissioning.OBSERVATION_NOISE"),
    Constant("reciprocity_rate_alliance", 0.0486041, 0.025, 0.1, "per month",
             "Monthly rate at which a provider's trust in the commissioner follows the commissioner's trust in it, "
             "in an alliance.", "Redgate et al. 2023 (reciprocity matters more in alliances); size assumed",
             "commissioning.RECIPROCITY_RATE['alliance']"),
    Constant("reciprocity_rate_traditional", 0.0243895, 0.01, 0.04, "per month",
             "The same reciprocity rate under separate contracts.",
             "Redgate et al. 2023 (reciprocity matters more in alliances); size assumed",
             "commissioning.RECIPROCITY_RATE['traditional']"),

    # --- 4. learning: commitment, the trust-commitment-small-wins loop (relationships.commitment_target) ---
    Constant("commitment_weight_trust", 0.245618, 0.2, 0.6, "weight (drive per unit)",
             "Weight of mean trust in partners in the commitment drive.",
             "Vangen & Huxham 2003; Ansell & Gash 2008 (trust builds commitment); weight assumed",
             "relationships.commitment_target: 0.4 * mean_trust"),
    Constant("commitment_weight_success", 0.22483, 0.2, 0.6, "weight (drive per unit)",
             "Weight of the joint successes a provider sees (pathways without fragmentation) in the commitment "
             "drive.", "Vangen & Huxham 2003; Ansell & Gash 2008 (small wins); weight assumed",
             "relationships.commitment_target: 0.4 * success_seen"),
    Constant("commitment_weight_commissioner", 0.162263, 0.1, 0.3, "weight (drive per unit)",
             "Weight of trust in the commissioner in the commitment drive.", "assumed",
             "relationships.commitment_target: 0.2 * trust_in_commissioner"),
    Constant("commitment_weight_stake", 0.186992, 0.15, 0.45, "weight (drive per unit)",
             "Commitment drive of a fully pooled budget worked to by the whole system: a stake in shared "
             "outcomes (the pooled share times whole-system working, IPT2, is passed as the stake).", "assumed",
             "relationships.commitment_target: 0.3 * stake"),
    Constant("commitment_offset", 0.592142, 0.45, 0.85, "drive",
             "Subtracted from the commitment drive: the drive at which the commitment target is even odds.",
             "assumed", "relationships.commitment_target: - 0.65"),
    Constant("commitment_slope", 6.5497, 2.0, 8.0, "log-odds per unit drive",
             "How sharply the commitment target responds to its drive.", "assumed",
             "relationships.COMMITMENT_SLOPE"),
    Constant("commitment_rate", 0.110557, 0.04, 0.16, "per month",
             "Monthly rate at which commitment builds toward its target (eroded faster by the negativity bias); "
             "slow, so benefits take years.", "assumed",
             "relationships.COMMITMENT_RATE"),

    # --- 4. learning: alignment (IPT4, theories.local.ipt4_alignment_target) ---
    Constant("trust_threshold", 0.240546, 0.2, 0.6, "level (0-1)",
             "Mean trust at which a shared focus half-forms in an alliance.",
             "Ansell & Gash 2008 (a prehistory of distrust blocks a shared focus); value assumed",
             "theories.local.TRUST_THRESHOLD"),
    Constant("alignment_response", 1.90587, 1.0, 4.0, "multiplier",
             "Scale of IPT4's saturating response: how close to full alignment the common aim gets at reference "
             "strength with its context present.", "assumed",
             "theories.local.ipt4_alignment_target: saturation(2.0 * response * gate(mean_trust, TRUST_THRESHOLD))"),
    Constant("consensus_partners", 35.2386, 10.0, 40.0, "partners",
             "How fast a shared focus gets harder to reach as partners multiply: the common aim's response is "
             "scaled by (consensus_partners + 10) / (consensus_partners + providers), 1 at ten providers.",
             "Provan & Kenis 2008 (shared governance needs goal consensus and strains as partners multiply); "
             "value assumed", "new in issue 22: theories.local.ipt4_alignment_target"),
    Constant("bilateral_alignment", 0.386026, 0.15, 0.45, "share (0-1)",
             "Alignment that familiarity brings per unit of trust without a common aim.", "assumed",
             "theories.local.BILATERAL_ALIGNMENT"),
    Constant("alignment_rate", 0.130573, 0.04, 0.16, "per month",
             "Monthly rate at which alignment moves toward its target.", "assumed",
             "theories.local.ALIGNMENT_RATE"),

    # --- 4. learning: orientation and roles (IPT7, theories.culture) ---
    Constant("transformation_threshold", 0.462556, 0.35, 0.75, "level (0-1)",
             "Commitment at which it becomes a commitment to transformation (IPT7's resource II).", "assumed",
             "theories.culture.COMMITMENT_THRESHOLD"),
    Constant("role_confusion", 2.27565, 0.0, 4.0, "factor (0 = none)",
             "Confusion while a full transformation programme changes roles in a culture not ready for it: no one "
             "is sure who now owns the next step, so a handoff is lost (1 + it) times as often and the provider "
             "holding a person keeps their next component 1 / (1 + it) times as often (confusion over roles and "
             "responsibilities hinders joint working: Cameron et al. 2014). A ready culture absorbs the change.",
             "Cameron, Lart, Bostock & Coomber 2014 (Health Soc Care Community 22(3)); size assumed; varied",
             "theories.culture.ipt7_role_confusion, ipt7_confused_loss, ipt7_confused_keep (new)"),
    Constant("readiness_threshold", 0.506444, 0.25, 0.65, "level (0-1)",
             "Culture readiness at which innovation, and the cultural shift, are half-switched on.", "assumed",
             "theories.culture.READINESS_THRESHOLD"),
    Constant("unready_shift", 0.163337, 0.05, 0.2, "share (0-1)",
             "Share of the cultural shift an alliance enables where culture is not ready; a ready culture adds "
             "the rest (1 minus it).", "assumed",
             "theories.culture.ipt7_orientation_target: (0.1 + 0.9 * gate(culture_readiness, READINESS_THRESHOLD))"),
    Constant("orientation_response", 3.69533, 1.0, 4.0, "multiplier",
             "Scale of IPT7's saturating response to a commitment to transformation.", "assumed",
             "theories.culture.ipt7_orientation_target: saturation(2.0 * response * transformation)"),
    Constant("bilateral_orientation", 0.306179, 0.15, 0.45, "share (0-1)",
             "Whole-system orientation that commitment brings per unit without an alliance.", "assumed",
             "theories.culture.BILATERAL_ORIENTATION"),
    Constant("orientation_rate", 0.0805793, 0.04, 0.16, "per month",
             "Monthly rate at which orientation moves toward its target; practice changes over years.", "assumed",
             "theories.culture.ORIENTATION_RATE"),
    Constant("contract_scope", 0.363123, 0.15, 0.45, "share (0-1)",
             "Share of a provider's orientation that separate contracts, which fix its scope, let turn into "
             "role flexibility.", "assumed", "theories.culture.CONTRACT_SCOPE"),
    Constant("role_rate", 0.157588, 0.04, 0.16, "per month",
             "Monthly rate at which role flexibility moves toward its target.", "assumed",
             "theories.culture.ROLE_RATE"),

    # --- 4. learning: innovation (IPT5, theories.culture.ipt5_innovation_gain) ---
    Constant("innovation_rate", 0.0505138, 0.02, 0.08, "per month",
             "Monthly innovation rate at full readiness and reference strength.", "assumed",
             "theories.culture.INNOVATION_RATE"),
    Constant("bilateral_innovation", 0.151029, 0.1, 0.4, "share (0-1)",
             "Share of the innovation rate a provider reaches without an alliance or whole-system orientation; "
             "an alliance with full orientation adds the rest (1 minus it).", "assumed",
             "theories.culture.ipt5_innovation_gain: (0.25 + 0.75 * alliance * orientation)"),

    # --- 4. learning: assessment practice (IPT2, theories.system.ipt2_assessment_practice_target) ---
    Constant("payment_effect", 0.432763, 0.25, 0.75, "share (0-1)",
             "Share of the habit of repeating assessments that ends once payment no longer rewards activity.",
             "assumed", "theories.system.PAYMENT_EFFECT"),
    Constant("innovation_tools", 0.200345, 0.15, 0.45, "share (0-1)",
             "Share of repeated assessment that shared tools from full innovation remove.", "assumed",
             "services.INNOVATION_TOOLS"),
    Constant("practice_rate", 0.101363, 0.03, 0.12, "per month",
             "Monthly rate at which assessment practice follows its incentive; habits change slowly.", "assumed",
             "theories.system.PRACTICE_RATE"),

    # --- 4. learning: community confidence (services.confidence_target) ---
    Constant("voice", 0.999124, 0.25, 1.0, "per unit experience",
             "How far a locality's confidence moves with its experience of services.", "assumed",
             "services.VOICE"),
    Constant("experience_neutral", 0.500542, 0.35, 0.65, "level (0-1)",
             "Experience at which confidence neither rises above nor falls below the locality's own.", "assumed",
             "services.confidence_target: (experience - 0.5)"),
    Constant("confidence_rate", 0.0776436, 0.025, 0.1, "per month",
             "Monthly rate at which confidence moves toward its target.", "assumed",
             "services.CONFIDENCE_RATE"),

    # --- 4. learning: participation and tailoring (IPT3, theories.local) ---
    Constant("place_threshold", 0.262872, 0.1, 0.5, "level (0-1)",
             "Place-based working at which an alliance's co-production and tailoring are half-switched on.",
             "assumed", "theories.local.PLACE_THRESHOLD"),
    Constant("base_coproduction", 0.301817, 0.15, 0.45, "share (0-1)",
             "Co-production communities offer where services do not seek it.", "assumed",
             "theories.local.BASE_COPRODUCTION"),
    Constant("unconnected_participation", 0.253515, 0.1, 0.3, "share (0-1)",
             "Share of its possible participation a confident but unconnected community reaches; full "
             "connectedness adds the rest (1 minus it).", "assumed",
             "theories.local.ipt3_participation_target: (0.2 + 0.8 * connectedness)"),
    Constant("participation_rate", 0.152435, 0.04, 0.16, "per month",
             "Monthly rate at which participation moves toward its target.", "assumed",
             "services.PARTICIPATION_RATE"),
    Constant("needs_specification", 0.535415, 0.0, 0.6, "share (0-1)",
             "Tailoring to a locality's need that contract specifications written from a needs assessment give, "
             "in either mode, once every contract has been let on it: commissioners assess local need and "
             "commission to it (joint strategic needs assessment, Local Government and Public Involvement in Health "
             "Act 2007), without the co-production that IPT3 adds. Contracts are re-let in turn over a contract "
             "term, so it is reached after `contract_length` months.",
             "Local Government and Public Involvement in Health Act 2007 (JSNA duty); size assumed; varied",
             "commissioning.specified_tailoring (new)"),
    Constant("tailor_rate", 0.211743, 0.125, 0.5, "per month",
             "Monthly rate at which an alliance builds tailoring at full drive.", "assumed",
             "theories.local.TAILOR_RATE"),
    Constant("tailor_decay", 0.0191515, 0.005, 0.02, "per month",
             "Monthly rate at which tailoring is lost.", "assumed", "theories.local.TAILOR_DECAY"),

    # --- 4. learning: formal joint pathways (IPT1, theories.system) ---
    Constant("complexity_threshold", 0.517921, 0.15, 0.55, "level (0-1)",
             "Need complexity at which the complex-needs pathway work is half-switched on.", "assumed",
             "theories.system.COMPLEXITY_THRESHOLD"),
    Constant("bilateral_protocols", 0.345995, 0.15, 0.45, "drive per unit informal cooperation",
             "Pathway drive of bilateral protocols between trusting, working partners, in either mode.", "assumed",
             "theories.system.BILATERAL_PROTOCOLS"),
    Constant("formal_rate", 0.0501215, 0.05, 0.2, "per month",
             "Monthly rate at which formal joint pathways are built at full drive; years to build.", "assumed",
             "theories.system.FORMAL_RATE"),
    Constant("formal_decay", 0.0446527, 0.015, 0.06, "per month",
             "Monthly rate at which formal pathways are lost where joint effort lapses.", "assumed",
             "theories.system.FORMAL_DECAY"),

    # --- 4. learning: whole-system working (IPT2, theories.system.ipt2_whole_system_target) ---
    Constant("pooled_threshold", 0.250511, 0.1, 0.5, "share (0-1)",
             "Pooled share at which whole-system working is half-switched on.", "assumed",
             "theories.system.POOLED_THRESHOLD"),
    Constant("joint_effort_threshold", 0.513331, 0.25, 0.65, "level (0-1)",
             "Mean joint effort at which whole-system working is half-possible: a board that meets while no one "
             "works jointly is a talking shop.", "Redgate et al. 2023 ('talking shops'); value assumed",
             "theories.system.EFFORT_THRESHOLD"),
    Constant("shared_outcomes_threshold", 0.368781, 0.1, 0.5, "level (0-1)",
             "Providers' mean alignment with the common aim at which whole-system working is half-possible: "
             "joined-up working focuses on shared outcomes only once priorities are aligned.",
             "Redgate et al. 2023 (IPT2: 'joined up working focusing on shared outcomes'); value assumed",
             "theories.system.ipt2_whole_system_target"),
    Constant("whole_system_response", 3.88869, 1.0, 4.0, "multiplier",
             "Scale of IPT2's saturating response to joint work.", "assumed",
             "theories.system.ipt2_whole_system_target: saturation(2.0 * response * joint_work)"),
    Constant("whole_system_rate", 0.137949, 0.05, 0.2, "per month",
             "Monthly rate at which whole-system working follows its target.", "assumed",
             "theories.system.WHOLE_SYSTEM_RATE"),

    # --- 4. learning: collaborative arrangements (IPT6, theories.culture) ---
    Constant("senior_threshold", 0.487897, 0.2, 0.6, "level (0-1)",
             "Senior commitment at which collaborative arrangements are half-switched on.", "assumed",
             "theories.culture.SENIOR_THRESHOLD"),
    Constant("arrangement_rate", 0.129344, 0.05, 0.2, "per month",
             "Monthly rate at which arrangements are built toward what senior buy-in supports (dismantled "
             "faster by the negativity bias).", "assumed", "theories.culture.ARRANGEMENT_RATE"),

    # --- 5. review at the end of a contract term (commissioning) ---
    Constant("review_threshold", 0.402147, 0.2, 0.5, "level (0-1)",
             "Commissioner's trust below which a provider is re-tendered (separate contracts), or, on average, "
             "the alliance's pooled share is cut.", "assumed",
             "commissioning.REVIEW_THRESHOLD"),
    Constant("review_pooled_cut", 0.444637, 0.25, 0.75, "multiplier",
             "Share of the pooled budget share an alliance keeps after a review finds it performing poorly "
             "(risk moved back to providers).", "assumed", "commissioning.review_pooled_share: 0.5 * pooled_share"),
)

#: The constants' names, in the registry's order (the order of each scenario's constants row).
CONSTANT_NAMES: tuple[str, ...] = tuple(c.name for c in CONSTANTS)
_BY_NAME: dict[str, Constant] = {c.name: c for c in CONSTANTS}


def constant(name: str) -> Constant:
    """The registry entry of constant ``name``; an unknown name is one clear error."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"constant {name!r}: not a model constant; see Params.constants_schema() for the "
                       f"{len(CONSTANTS)} names") from None


#: Joint constraints on constants: (names, largest allowed sum, why).
CONSTRAINTS: tuple[tuple[tuple[str, ...], float, str], ...] = (
    (("experience_weight_continuity", "experience_weight_access", "experience_weight_safety",
      "experience_weight_voice"), 1.0, "experience is a weighted mean of shares, so it stays in [0, 1]"),
)


def check_constants(values: Any, where: str = "Params.constants") -> tuple[tuple[str, float], ...]:
    """Validate overrides of model constants: a mapping ``{name: value}`` (or pairs). Each name must be in the
    registry and each value a finite number in its plausible range. Returns the overrides as sorted
    ``(name, value)`` pairs (a canonical, hashable form); raises naming the constant, the value and what is
    allowed."""
    if isinstance(values, Mapping):
        pairs = list(values.items())
    elif isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise TypeError(f"{where}={values!r}: must be a mapping of constant names to numbers, e.g. "
                        "{'effort_slope': 5.0}")
    else:
        pairs = [tuple(p) for p in values]
        if any(len(p) != 2 for p in pairs):
            raise TypeError(f"{where}={values!r}: must be a mapping of constant names to numbers, e.g. "
                            "{'effort_slope': 5.0}")
    out = {}
    for name, value in pairs:
        if name not in _BY_NAME:
            close = difflib.get_close_matches(str(name), CONSTANT_NAMES, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"{where}: unknown constant {name!r}{hint} (the registry of all {len(CONSTANTS)}: "
                             "docs/ODD.md section 7.10, or constants_schema())")
        c = _BY_NAME[name]
        allowed = f"a number in [{c.low:g}, {c.high:g}] ({c.unit})"
        if isinstance(value, bool) or not isinstance(value, int | float) and not (
                type(value).__module__ == "numpy" and getattr(value, "dtype", None) is not None
                and value.dtype.kind in "iuf"):
            raise TypeError(f"{where}[{name!r}]={value!r}: wrong type; must be {allowed}")
        number = float(value)
        if math.isnan(number) or not c.low <= number <= c.high:
            raise ValueError(f"{where}[{name!r}]={value!r}: out of range; must be {allowed}")
        out[name] = number
    for names, largest, why in CONSTRAINTS:
        total = sum(out.get(n, _BY_NAME[n].value) for n in names)
        if any(n in out for n in names) and total > largest + 1e-12:
            raise ValueError(f"{where}: {' + '.join(names)} = {total:g}; must be at most {largest:g} ({why})")
    return tuple(sorted(out.items()))
