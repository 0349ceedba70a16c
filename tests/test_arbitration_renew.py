"""Arbiter.renew: the same claim again extends its lease quietly; anything else is not a
renewal (controller/dispatch/arbitration.py)."""

from __future__ import annotations

from controller.dispatch.arbitration import Arbiter, Claim, Source


def test_a_renewal_extends_the_lease_without_a_record() -> None:
    arbiter = Arbiter()
    assert arbiter.claim(Claim(Source.SCHEDULE, "charge", 3000.0, 4.0, 0.0), 0.0).accepted
    records = len(arbiter.history)
    renewed = arbiter.renew(Claim(Source.SCHEDULE, "charge", 3000.0, 4.0, 3.0), 3.0)
    assert renewed is not None and renewed.claim.expires_at == 7.0
    assert len(arbiter.history) == records
    assert arbiter.resolve(6.9).mode_source == "schedule"
    assert arbiter.resolve(7.0).mode_source == "default"
    assert [r.kind for r in arbiter.history][-1] == "expiry"


def test_anything_but_the_same_leased_claim_is_not_a_renewal() -> None:
    arbiter = Arbiter()
    arbiter.claim(Claim(Source.SCHEDULE, "charge", 3000.0, 4.0, 0.0), 0.0)
    assert arbiter.renew(Claim(Source.SCHEDULE, "charge", 2000.0, 4.0, 1.0), 1.0) is None
    assert arbiter.renew(Claim(Source.SCHEDULE, "v2h", 3000.0, 4.0, 1.0), 1.0) is None
    assert arbiter.renew(Claim(Source.GRID_OPERATOR, "charge", 3000.0, 4.0, 1.0), 1.0) is None
    assert arbiter.renew(Claim(Source.SCHEDULE, "charge", 3000.0, 4.0, 5.0), 5.0) is None  # over
    arbiter.claim(Claim(Source.USER, "charge"), 5.0)  # no lease: nothing to renew
    assert arbiter.renew(Claim(Source.USER, "charge"), 6.0) is None
