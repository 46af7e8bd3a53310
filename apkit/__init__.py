"""apkit: sign-up, allocation and lists for the AP groups of a French lycée."""

from apkit.errors import (
    AccessDenied,
    ApkitError,
    CampaignError,
    CapacityError,
    EligibilityError,
    FeasibilityError,
    NotFoundError,
    RosterError,
    SetupError,
    StoreError,
)
from apkit.store import Store, default_url

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "ApkitError",
    "CampaignError",
    "CapacityError",
    "EligibilityError",
    "FeasibilityError",
    "NotFoundError",
    "RosterError",
    "SetupError",
    "Store",
    "StoreError",
    "default_url",
]
