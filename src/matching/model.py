"""Value objects the ranking core works on; storage maps rows to these."""

from __future__ import annotations

import msgspec


class SupplierProfile(msgspec.Struct, frozen=True, kw_only=True):
    """What the ranking needs to know about one ASF supplier."""

    id: int
    name: str
    description: str
    cpv_codes: tuple[str, ...] = ()
    # Kommun codes (4 digits), län codes (2 digits) or "SE" for the whole country.
    service_area: tuple[str, ...] = ()
    target_group_share: float = 0.0
    max_contract_value_sek: int | None = None
    training_places: int = 0
    active: bool = True
    # False: the ASF does not want to be suggested as a partner in a joint bid.
    joint_bids: bool = True
    # False only when reserved contracts require a support body's verification
    # (ASFMATCH_RESERVED_REQUIRES_VERIFICATION) and this supplier holds none that is valid.
    verified_for_reserved: bool = True


class Need(msgspec.Struct, frozen=True, kw_only=True):
    """What the ranking needs to know about one procurement need."""

    id: int
    title: str
    description: str
    cpv_codes: tuple[str, ...] = ()
    kommun: str
    # Every kommun of a joint procurement, `kommun` first; empty means just `kommun`.
    kommuner: tuple[str, ...] = ()
    # True when the need is for a whole län (a notice naming only a NUTS3 region); `kommun` then
    # holds the län code followed by "00".
    whole_lan: bool = False
    estimated_value_sek: int | None = None
    reserved: bool = False
    # 0 buys goods or services; >0 buys that many work-training places.
    training_places: int = 0
    status: str = "open"

    @property
    def places(self) -> tuple[str, ...]:
        """The kommun codes the need is for: `kommuner`, or just `kommun`."""
        return self.kommuner if len(self.kommuner) > 1 else (self.kommun,)
