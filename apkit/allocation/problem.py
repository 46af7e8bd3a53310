"""The allocation problem and its result, as plain data with no database.

A :class:`Problem` lists the students of one campaign, the slots (hours), the
offers (activities) with their capacity, minimum size, slots and eligibility, the
students' ranked preferences per slot, the placements that must be kept, and the
history of earlier periods. :func:`apkit.allocation.solve` turns it into an
:class:`Allocation`: for every (student, slot) the activity or ``None``, the rank
obtained and, when it is not the first choice, the reason.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from apkit.errors import CampaignError

StudentKey = Hashable
OfferKey = Hashable
RepeatKey = tuple[str, Hashable]

POLICIES = ("fill", "leave")


class AllocationError(CampaignError):
    """A problem that cannot be solved as it is given (unknown offer, bad slot)."""


class Reason(enum.StrEnum):
    """Cause of a placement other than the first choice, or of no placement."""

    FIXED = "fixed"
    FIRST_CHOICE_FULL = "first_choice_full"
    FIRST_CHOICE_CLOSED = "first_choice_closed"
    FIRST_CHOICE_TAKEN = "first_choice_taken"
    FIRST_CHOICE_NOT_ELIGIBLE = "first_choice_not_eligible"
    FIRST_CHOICE_TRADE_OFF = "first_choice_trade_off"
    NO_PREFERENCE = "no_preference"
    NO_PREFERENCE_PLACED = "no_preference_placed"
    OUTSIDE_CHOICES = "outside_choices"
    NO_PLACE = "no_place"
    TEACHER_SEEN = "teacher_seen"

    @property
    def text(self) -> str:
        """The reason in French, as students and coordinators read it."""
        return REASON_TEXTS[self]


REASON_TEXTS = {
    Reason.FIXED: "placement fixé par un professeur ou le coordinateur",
    Reason.FIRST_CHOICE_FULL: "premier choix complet",
    Reason.FIRST_CHOICE_CLOSED: "premier choix fermé faute d'inscrits "
    "(effectif minimum non atteint)",
    Reason.FIRST_CHOICE_TAKEN: "premier choix déjà suivi lors d'une période précédente",
    Reason.FIRST_CHOICE_NOT_ELIGIBLE: "premier choix réservé à d'autres élèves",
    Reason.FIRST_CHOICE_TRADE_OFF: "premier choix écarté pour que tout le monde ait "
    "une place (projet sur deux heures, effectif minimum ou atelier pris dans "
    "l'autre heure)",
    Reason.NO_PREFERENCE: "aucun choix",
    Reason.NO_PREFERENCE_PLACED: "aucun choix : placé dans une place restante",
    Reason.OUTSIDE_CHOICES: "aucun de ses choix possible : placé dans une place "
    "restante",
    Reason.NO_PLACE: "plus de place",
    Reason.TEACHER_SEEN: "professeur déjà rencontré : les autres groupes sont complets",
}


@dataclass(frozen=True)
class Offer:
    """An activity in the form the solver uses.

    ``eligible`` is the set of students allowed in, or ``None`` for everyone.
    Two offers with the same ``title`` and ``teacher`` are the same activity for
    the no-repeat rule.
    """

    key: OfferKey
    slots: tuple[int, ...]
    capacity: int
    min_size: int = 0
    title: str = ""
    teacher: Hashable | None = None
    eligible: frozenset[StudentKey] | None = None

    @property
    def repeat_key(self) -> RepeatKey:
        return (self.title or str(self.key), self.teacher)

    def admits(self, student: StudentKey) -> bool:
        return self.eligible is None or student in self.eligible


@dataclass(frozen=True)
class Problem:
    """One campaign's allocation problem.

    Parameters
    ----------
    students, slots, offers
        Who is placed, in which slots, into what.
    preferences
        ``(student, slot) -> offer keys``, first choice first.
    fixed
        ``(student, slot) -> offer key`` placements kept as they are (prescribed
        by a teacher or corrected by hand), even over capacity.
    taken
        ``student -> repeat keys`` of activities followed in earlier periods.
    seen_teachers
        ``student -> teachers`` met in earlier periods, for the rotation mode.
    unranked_policy
        ``"fill"`` places students with no preference in the remaining places;
        ``"leave"`` leaves them unplaced.
    seed
        Seed of the lottery that breaks exact ties.
    rotation
        Ignore preferences and place each student with a teacher not yet met.

    Raises
    ------
    AllocationError
        If a preference or fixed placement names an unknown student, offer or
        slot, the policy is not one of ``fill``, ``leave``, or the seed is
        negative.
    """

    students: tuple[StudentKey, ...]
    slots: tuple[int, ...]
    offers: tuple[Offer, ...]
    preferences: Mapping[tuple[StudentKey, int], tuple[OfferKey, ...]] = field(
        default_factory=dict
    )
    fixed: Mapping[tuple[StudentKey, int], OfferKey] = field(default_factory=dict)
    taken: Mapping[StudentKey, frozenset[RepeatKey]] = field(default_factory=dict)
    seen_teachers: Mapping[StudentKey, frozenset[Hashable]] = field(
        default_factory=dict
    )
    unranked_policy: str = "fill"
    seed: int = 0
    rotation: bool = False

    def __post_init__(self) -> None:
        if self.unranked_policy not in POLICIES:
            raise AllocationError(
                f"Règle invalide pour les élèves sans choix : "
                f"« {self.unranked_policy} » ; valeurs permises : fill, leave"
            )
        if self.seed < 0:
            raise AllocationError(
                f"Graine invalide : {self.seed} ; donnez un entier positif ou nul"
            )
        offers = {offer.key: offer for offer in self.offers}
        for offer in self.offers:
            self._check_slots(offer.slots, f"atelier {offer.key}")
        known = set(self.students)
        for student, _slot in [*self.preferences, *self.fixed]:
            if student not in known:
                raise AllocationError(
                    f"élève inconnu « {student} » dans les choix ou les placements "
                    "fixés ; ajoutez-le à la liste des élèves"
                )
        for (student, slot), keys in self.preferences.items():
            for key in keys:
                self._check_offer(offers, key, slot, f"choix de l'élève {student}")
        for (student, slot), key in self.fixed.items():
            self._check_offer(offers, key, slot, f"placement de l'élève {student}")

    def _check_slots(self, slots: tuple[int, ...], where: str) -> None:
        unknown = [slot for slot in slots if slot not in self.slots]
        if unknown:
            raise AllocationError(
                f"{where} : heure {unknown[0]} inconnue ; heures de la campagne : "
                f"{', '.join(map(str, self.slots))}"
            )

    def _check_offer(
        self, offers: dict[OfferKey, Offer], key: OfferKey, slot: int, where: str
    ) -> None:
        if key not in offers:
            raise AllocationError(f"{where} : atelier inconnu « {key} »")
        if slot not in offers[key].slots:
            raise AllocationError(
                f"{where} : l'atelier {key} n'a pas lieu à l'heure {slot}"
            )

    @cached_property
    def _offers_by_key(self) -> dict[OfferKey, Offer]:
        return {offer.key: offer for offer in self.offers}

    def offer(self, key: OfferKey) -> Offer:
        """Return the offer with this key.

        Raises
        ------
        AllocationError
            If no offer has this key.
        """
        try:
            return self._offers_by_key[key]
        except KeyError:
            raise AllocationError(f"atelier inconnu « {key} »") from None


@dataclass(frozen=True)
class Placement:
    """The outcome for one student in one slot.

    ``rank`` is the rank of the activity in the student's list for that slot, or
    ``None`` when the student is unplaced, fixed or placed outside their list.
    ``reason`` is ``None`` for a first choice.
    """

    student: StudentKey
    slot: int
    offer: OfferKey | None
    rank: int | None
    reason: Reason | None
    fixed: bool = False

    @property
    def reason_text(self) -> str:
        return self.reason.text if self.reason is not None else ""


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`apkit.allocation.solve`.

    ``placements`` has one entry per (student, slot) of the problem. ``cancelled``
    contains the offers closed because they could not reach their minimum size.
    ``methods`` names the solver used for each independent part.
    """

    placements: Mapping[tuple[StudentKey, int], Placement]
    cancelled: frozenset[OfferKey]
    methods: tuple[str, ...] = ()

    @property
    def unplaced(self) -> list[Placement]:
        return [p for p in self.placements.values() if p.offer is None]

    def fill(self) -> Counter[tuple[OfferKey, int]]:
        """Count the students placed in each (offer, slot)."""
        return Counter(
            (p.offer, p.slot) for p in self.placements.values() if p.offer is not None
        )

    def rank_counts(self) -> Counter[int | None]:
        """Count placements by rank obtained (``None``: outside any list)."""
        return Counter(p.rank for p in self.placements.values() if p.offer is not None)
