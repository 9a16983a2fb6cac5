"""Chemical weapons production facilities: declared with their sites, destroyed (claims)
and verified (observations), inaccessible while their site is declared so.

A facility is not an item: it holds no chemical and is not counted in any category. Its
record follows its site: declaring a site of a production kind (``FACILITY_KINDS``) makes
it a facility from that moment; a later declaration of the site changes its structure or
its access (an inaccessible span opens, or closes). Its destruction is functional (its
critical equipment made inoperable), then physical if it has a structure to destroy; each
step is verified by a party other than the one that recorded it.
"""

from __future__ import annotations

from cwledger.book.book import Book, Context
from cwledger.book.records import FACILITY_KINDS, AccessPeriod, FacilityRecord, FacilityStep
from cwledger.book.rules.common import raise_finding
from cwledger.model import AccessStatus, Site
from cwledger.model.bodies import FacilityDestroyed, FacilityVerified


def site_changed(book: Book, ctx: Context, site: Site) -> None:
    """Keep the facility record of a site of a production kind in step with its site."""
    rec = book.get(FacilityRecord, site.id)
    if rec is None:
        if site.kind not in FACILITY_KINDS:
            return
        rec = FacilityRecord(
            facility=site.id,
            facility_kind=str(site.kind),
            declared_at=ctx.at,
            declared_entry=ctx.entry,
        )
    periods = list(rec.inaccessible)
    closed = not periods or periods[-1].until is not None
    if site.access == AccessStatus.INACCESSIBLE and closed:
        periods.append(AccessPeriod(since=ctx.at))
    elif site.access != AccessStatus.INACCESSIBLE and not closed:
        periods[-1] = periods[-1].model_copy(update={"until": ctx.at})
    book.put(
        rec.model_copy(
            update={
                "structure": site.structure,
                "inaccessible": periods,
                "facility_kind": str(site.kind),
            }
        )
    )


def facility_destroyed(book: Book, ctx: Context, body: FacilityDestroyed) -> None:
    rec = book.get(FacilityRecord, body.facility)
    if rec is None:
        ctx.refuse("facility", f"{body.facility} is not a declared production facility")
        return
    if body.extent == "physical" and rec.structure is None:
        ctx.refuse("extent", f"facility {body.facility} has no structure declared to destroy")
        return
    old = rec.functional if body.extent == "functional" else rec.physical
    if old is not None:
        ctx.refuse(
            "extent",
            f"the {body.extent} destruction of facility {body.facility} is already recorded"
            f" (entry {old.entry})",
        )
        return
    step = FacilityStep(
        at=ctx.at, entry=ctx.entry, event=ctx.event.id, by=ctx.event.author, method=body.method
    )
    book.put(rec.model_copy(update={body.extent: step}))


def facility_verified(book: Book, ctx: Context, body: FacilityVerified) -> None:
    rec = book.get(FacilityRecord, body.facility)
    step = (
        None if rec is None else (rec.functional if body.extent == "functional" else rec.physical)
    )
    if rec is None or step is None:
        raise_finding(
            book,
            ctx,
            "unrecorded-destruction",
            f"{body.extent} destruction of facility {body.facility} verified but never recorded",
            [body.facility],
        )
        return
    if step.by == ctx.event.author:
        ctx.refuse(
            "facility",
            f"{ctx.event.author} recorded the {body.extent} destruction of facility"
            f" {body.facility} (entry {step.entry}); a party does not verify its own record",
        )
        return
    if not body.confirmed:
        raise_finding(
            book,
            ctx,
            "destruction-not-confirmed",
            f"{body.extent} destruction of facility {body.facility} not confirmed",
            [body.facility],
        )
        return
    verified = step.model_copy(
        update={
            "verified_at": ctx.at,
            "verified_entry": ctx.entry,
            "verified_event": ctx.event.id,
            "verified_by": ctx.event.author,
        }
    )
    book.put(rec.model_copy(update={body.extent: verified}))
