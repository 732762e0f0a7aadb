"""Every write of the produce app: one function per business action.

Farm records that break the standard are saved and flagged (Violation), never refused:
the point is an honest log. Lots move forward only: harvest lots are closed by their
grading, graded lots by packing, and every step appends a Transformation (lineage).
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, F
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.core.errors import Conflict, DomainError, Forbidden, NotFound
from cuntao.core.scope import Scope
from cuntao.network.models import Station, StationStatus, Village
from cuntao.produce import codes
from cuntao.produce.models import (
    AllowedInput,
    BoxEvent,
    BoxStatus,
    Cooperative,
    FarmRecord,
    GradedContribution,
    GradedLot,
    Grading,
    GradingInput,
    GradingSample,
    HarvestLot,
    Inspection,
    InspectionCheckpoint,
    InspectionResult,
    InspectorAssignment,
    ItemKind,
    ItemRole,
    LotStatus,
    Member,
    PackedBox,
    Packing,
    PackSize,
    Photo,
    Plot,
    RecordKind,
    SopTask,
    Standard,
    StandardStatus,
    Transformation,
    TransformationItem,
    TransformationKind,
    Violation,
    ViolationKind,
    ViolationStatus,
)
from cuntao.produce.selectors import (
    inspector_cooperative_ids,
    open_violation_plot_ids,
    standard_for,
)

GRAM = Decimal("0.001")
MAX_KG = Decimal("100000")
MAX_BOXES_PER_PACKING = 2000
MAX_SAMPLES = 500
MAX_PHOTOS = 6


# --- helpers ------------------------------------------------------------------------

def kg_text(value) -> str:
    """A Decimal without trailing zeros or exponent: 1000.000 -> "1000", 12.500 -> "12.5"."""
    return f"{Decimal(value).normalize():f}"


def _require_staff(scope: Scope) -> None:
    if not scope.is_staff_scope:
        raise Forbidden(_("Only county staff may do this."), code="staff_only")


def _require_county(scope: Scope, county_id: int) -> None:
    if not scope.may_reach_county(county_id):
        raise NotFound(detail="county")


def _kg(value, *, field: str, allow_zero: bool = False) -> Decimal:
    """A weight in kg as a Decimal of whole grams, or a field error."""
    try:
        kg = Decimal(str(value)).quantize(GRAM)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: [_("Give the weight in kg as a number, such as 12.5.")]}) from None
    if not kg.is_finite() or kg < 0 or (kg == 0 and not allow_zero):
        raise ValidationError({field: [_("The weight must be more than 0 kg.")]})
    if kg > MAX_KG:
        raise ValidationError({field: [_("The weight can be at most %(max)s kg.") % {"max": MAX_KG}]})
    return kg


def _amount(value, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(GRAM)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: [_("Give the amount as a number, such as 2.5.")]}) from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_KG:
        raise ValidationError({field: [_("The amount must be more than 0.")]})
    return amount


def _not_in_future(day: datetime.date, *, field: str) -> datetime.date:
    if not isinstance(day, datetime.date):
        raise ValidationError({field: [_("Give a date.")]})
    if day > timezone.localdate():
        raise ValidationError({field: [_("The date cannot be in the future.")]})
    return day


def _lineage(*, cooperative: Cooperative, kind: str, occurred_on: datetime.date, actor, inputs, outputs,
             grading: Grading | None = None, packing: Packing | None = None) -> Transformation:
    """Append one lineage step; inputs and outputs are (item_kind, code, kg or None)."""
    step = Transformation.objects.create(cooperative=cooperative, county_id=cooperative.county_id, kind=kind,
                                         occurred_on=occurred_on, grading=grading, packing=packing, actor=actor)
    TransformationItem.objects.bulk_create(
        [TransformationItem(transformation=step, role=ItemRole.INPUT, item_kind=k, item_code=c, kg=w) for k, c, w in inputs]
        + [TransformationItem(transformation=step, role=ItemRole.OUTPUT, item_kind=k, item_code=c, kg=w) for k, c, w in outputs])
    return step


def plot_code(plot: Plot) -> str:
    return f"P{plot.pk}"


def _station_of_village(village: Village) -> Station | None:
    return Station.objects.filter(village=village).exclude(status=StationStatus.CLOSED).first()


def _attach_photos(*, photos, cooperative: Cooperative, actor, record=None, inspection=None) -> None:
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": [_("Attach at most %(max)s photos.") % {"max": MAX_PHOTOS}]})
    for upload in photos:
        _require_image(upload)
        Photo.objects.create(cooperative=cooperative, county_id=cooperative.county_id, record=record, inspection=inspection,
                             image=upload, taken_by=actor)


def _require_image(upload) -> None:
    """Refuse a file that Pillow cannot read as a JPEG, PNG or WebP image."""
    from PIL import Image

    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image.verify()
            kind = image.format
        upload.seek(0)
    except Exception:  # noqa: BLE001 - Pillow raises many types for a broken file
        kind = None
    if kind not in ("JPEG", "PNG", "WEBP"):
        raise ValidationError({"photos": [_("A photo must be a JPEG, PNG or WebP image.")]})


# --- cooperatives, members, plots -----------------------------------------------------

@transaction.atomic
def cooperative_create(*, scope: Scope, county_id: int, name: str, slug: str, registration_no: str,
                       fee_rate_bp: int = 0, village_ids=(), gs1_company_prefix: str = "", name_en: str = "") -> Cooperative:
    """Register a cooperative in a county (county staff)."""
    _require_staff(scope)
    _require_county(scope, county_id)
    coop = Cooperative(county_id=county_id, name=name, slug=slug, registration_no=registration_no, fee_rate_bp=fee_rate_bp,
                       gs1_company_prefix=gs1_company_prefix, name_en=name_en)
    coop.full_clean()
    coop.save()
    villages = list(Village.objects.filter(pk__in=list(village_ids), county_id=county_id))
    if len(villages) != len(set(village_ids)):
        raise ValidationError({"village_ids": [_("Choose villages of the cooperative's county.")]})
    coop.villages.set(villages)
    return coop


@transaction.atomic
def member_add(*, scope: Scope, cooperative: Cooperative, village: Village, name: str, phone: str = "",
               villager=None, show_name_publicly: bool = False, show_photo_publicly: bool = False,
               joined_on: datetime.date | None = None) -> Member:
    """Enrol a farmer; the station of their village keeps records on their behalf."""
    _require_staff(scope)
    _require_county(scope, cooperative.county_id)
    if village.county_id != cooperative.county_id:
        raise ValidationError({"village": [_("The village must be in the cooperative's county.")]})
    if villager is not None and villager.county_id != cooperative.county_id:
        raise ValidationError({"villager": [_("The villager must live in the cooperative's county.")]})
    consent = show_name_publicly or show_photo_publicly
    member = Member(cooperative=cooperative, county_id=cooperative.county_id, village=village,
                    station=_station_of_village(village), villager=villager, name=(name or "").strip(), phone=phone,
                    show_name_publicly=show_name_publicly, show_photo_publicly=show_photo_publicly,
                    consent_recorded_at=timezone.now() if consent else None, joined_on=joined_on)
    member.full_clean(exclude=["photo"])
    member.save()
    cooperative.villages.add(village)
    return member


@transaction.atomic
def plot_add(*, scope: Scope, member: Member, name: str, lat, lon, area_mu, crop: str, village: Village | None = None) -> Plot:
    """Register one of a member's plots."""
    _require_staff(scope)
    _require_county(scope, member.county_id)
    village = village or member.village
    if village.county_id != member.county_id:
        raise ValidationError({"village": [_("The village must be in the cooperative's county.")]})
    plot = Plot(cooperative_id=member.cooperative_id, county_id=member.county_id, member=member, village=village,
                station=_station_of_village(village), name=name, lat=lat, lon=lon, area_mu=area_mu, crop=crop)
    plot.full_clean()
    plot.save()
    return plot


# --- standards ------------------------------------------------------------------------

def _require_draft(standard: Standard) -> None:
    if standard.status != StandardStatus.DRAFT:
        raise Conflict(_("A published standard cannot change; start a new version instead."), code="standard_published")


def _lock_standard(standard: Standard) -> Standard:
    return Standard.objects.select_for_update().get(pk=standard.pk)


@transaction.atomic
def standard_create(*, scope: Scope, product, title: str, season: int, title_en: str = "", brand=None,
                    label_text: str = "", label_text_en: str = "", inspections_before_harvest: int = 1,
                    harvest_starts_on=None, harvest_ends_on=None) -> Standard:
    """Start a draft standard for a product and season (the next version if one exists)."""
    _require_staff(scope)
    _require_county(scope, product.county_id)
    if brand is not None and brand.cooperative_id != product.cooperative_id:
        raise ValidationError({"brand": [_("Choose a brand of the same cooperative.")]})
    last = Standard.objects.filter(product=product, season=season).order_by("-version").first()
    standard = Standard(cooperative_id=product.cooperative_id, county_id=product.county_id, product=product, title=title,
                        title_en=title_en, season=season, version=(last.version + 1) if last else 1, brand=brand,
                        label_text=label_text, label_text_en=label_text_en,
                        inspections_before_harvest=inspections_before_harvest,
                        harvest_starts_on=harvest_starts_on, harvest_ends_on=harvest_ends_on)
    standard.full_clean()
    standard.save()
    return standard


SECTION_MODELS = {"allowed_input": AllowedInput, "sop_task": SopTask, "checkpoint": InspectionCheckpoint}


@transaction.atomic
def standard_section_add(*, scope: Scope, standard: Standard, section: str, **fields):
    """Add a row to a draft's inputs, planting or supervision section."""
    _require_staff(scope)
    _require_county(scope, standard.county_id)
    standard = _lock_standard(standard)
    _require_draft(standard)
    row = SECTION_MODELS[section](standard=standard, **fields)
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def grade_add(*, scope: Scope, standard: Standard, code: str, name: str, rank: int, min_weight_g: int, min_brix,
              branded: bool = True, name_en: str = ""):
    """Add a grade to a draft's quality section."""
    from cuntao.produce.models import GradeSpec

    _require_staff(scope)
    _require_county(scope, standard.county_id)
    standard = _lock_standard(standard)
    _require_draft(standard)
    grade = GradeSpec(standard=standard, code=code, name=name, name_en=name_en, rank=rank, min_weight_g=min_weight_g,
                      min_brix=min_brix, branded=branded)
    grade.full_clean()
    grade.save()
    return grade


@transaction.atomic
def pack_size_add(*, scope: Scope, standard: Standard, grade, name: str, net_weight_g: int, price_guidance_fen: int,
                  gtin: str = "", name_en: str = "") -> PackSize:
    """Add a pack to a draft's brand section; a GTIN must carry a correct check digit."""
    _require_staff(scope)
    _require_county(scope, standard.county_id)
    standard = _lock_standard(standard)
    _require_draft(standard)
    if grade.standard_id != standard.pk:
        raise ValidationError({"grade": [_("Choose a grade of this standard.")]})
    if gtin and not (len(gtin) == 14 and codes.is_valid_gtin(gtin)):
        raise ValidationError({"gtin": [_("This is not a valid GTIN-14: check the digits and the check digit.")]})
    if not grade.branded:
        raise ValidationError({"grade": [_("Fruit of this grade is not sold under the brand.")]})
    pack = PackSize(standard=standard, grade=grade, name=name, name_en=name_en, net_weight_g=net_weight_g,
                    price_guidance_fen=price_guidance_fen, gtin=gtin)
    pack.full_clean()
    pack.save()
    return pack


@transaction.atomic
def standard_publish(*, scope: Scope, standard: Standard) -> Standard:
    """Publish a draft: from now on it is immutable; an earlier published version retires."""
    _require_staff(scope)
    _require_county(scope, standard.county_id)
    standard = _lock_standard(standard)
    _require_draft(standard)
    missing = [label for label, present in (
        (_("allowed inputs"), standard.allowed_inputs.exists()), (_("grades"), standard.grades.exists()),
        (_("SOP tasks"), standard.sop_tasks.exists())) if not present]
    if missing:
        raise DomainError(_("The standard is not complete: add %(missing)s.") % {"missing": ", ".join(missing)},
                          code="standard_incomplete")
    (Standard.objects.filter(product=standard.product, season=standard.season, status=StandardStatus.PUBLISHED)
     .update(status=StandardStatus.RETIRED))
    standard.status = StandardStatus.PUBLISHED
    standard.published_at = timezone.now()
    standard.published_by = scope.user
    standard.save(update_fields=["status", "published_at", "published_by"])
    return standard


# --- inspectors -------------------------------------------------------------------------

@transaction.atomic
def inspector_assign(*, scope: Scope, user, cooperative: Cooperative) -> InspectorAssignment:
    """Assign an inspector to a cooperative (county staff); assigning twice is refused."""
    _require_staff(scope)
    _require_county(scope, cooperative.county_id)
    try:
        with transaction.atomic():
            return InspectorAssignment.objects.create(user=user, cooperative=cooperative, county_id=cooperative.county_id,
                                                      assigned_by=scope.user)
    except IntegrityError:
        raise Conflict(_("This inspector is already assigned to the cooperative."), code="already_assigned") from None


@transaction.atomic
def inspector_unassign(*, scope: Scope, assignment: InspectorAssignment) -> InspectorAssignment:
    _require_staff(scope)
    _require_county(scope, assignment.county_id)
    assignment.ended_at = timezone.now()
    assignment.save(update_fields=["ended_at"])
    return assignment


# --- farm records ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str


def _standard_for_plot(plot: Plot, on: datetime.date) -> Standard:
    standard = standard_for(cooperative_id=plot.cooperative_id, crop=plot.crop, on=on)
    if standard is None:
        raise DomainError(_("The cooperative has no published standard for %(crop)s yet.") % {"crop": plot.crop},
                          code="no_standard")
    return standard


def _match_input(standard: Standard, name: str) -> AllowedInput | None:
    wanted = name.strip().casefold()
    return next((a for a in standard.allowed_inputs.all() if a.name.casefold() == wanted), None)


def check_input(*, standard: Standard, plot: Plot, name: str, dose_total: Decimal, dose_unit: str,
                applied_on: datetime.date) -> tuple[AllowedInput | None, Decimal, list[Finding]]:
    """Check an application against the standard; return the input, dose per mu and findings."""
    allowed = _match_input(standard, name)
    per_mu = (dose_total / plot.area_mu).quantize(GRAM)
    if allowed is None:
        return None, per_mu, [Finding(ViolationKind.INPUT_NOT_ALLOWED,
                                      _("%(name)s is not on the standard's list of allowed inputs.") % {"name": name})]
    findings = []
    if dose_unit and dose_unit.strip().casefold() != allowed.dose_unit.casefold():
        findings.append(Finding(ViolationKind.UNIT_MISMATCH,
                                _("The dose was given in %(unit)s; the standard measures %(name)s in %(expected)s.")
                                % {"unit": dose_unit, "name": allowed.name, "expected": allowed.dose_unit}))
    elif per_mu > allowed.max_dose_per_mu:
        findings.append(Finding(ViolationKind.DOSE_OVER_MAX,
                                _("%(dose)s %(unit)s per mu is above the maximum of %(max)s %(unit)s per mu.")
                                % {"dose": kg_text(per_mu), "unit": allowed.dose_unit,
                                   "max": kg_text(allowed.max_dose_per_mu)}))
    safe_from = applied_on + datetime.timedelta(days=allowed.pre_harvest_interval_days)
    harvested_inside = (FarmRecord.objects.filter(plot=plot, kind=RecordKind.HARVEST, occurred_on__gte=applied_on,
                                                  occurred_on__lt=safe_from).order_by("occurred_on").first())
    season_start = standard.harvest_starts_on
    if harvested_inside is not None or (season_start and applied_on <= season_start < safe_from):
        findings.append(Finding(ViolationKind.PRE_HARVEST_INTERVAL,
                                _("%(name)s needs %(days)s days before harvest; fruit may be picked from %(date)s.")
                                % {"name": allowed.name, "days": allowed.pre_harvest_interval_days, "date": safe_from}))
    return allowed, per_mu, findings


def harvest_phi_findings(*, plot: Plot, harvested_on: datetime.date) -> list[Finding]:
    """Applications on the plot whose pre-harvest interval has not run out by the harvest."""
    findings = []
    applied = (FarmRecord.objects.filter(plot=plot, kind=RecordKind.INPUT_APPLIED, allowed_input__isnull=False,
                                         occurred_on__lte=harvested_on).select_related("allowed_input"))
    for record in applied:
        safe_from = record.occurred_on + datetime.timedelta(days=record.allowed_input.pre_harvest_interval_days)
        if harvested_on < safe_from:
            findings.append(Finding(ViolationKind.PRE_HARVEST_INTERVAL,
                                    _("Harvested on %(day)s, inside the %(days)s-day pre-harvest interval of %(name)s "
                                      "applied on %(applied)s.")
                                    % {"day": harvested_on, "days": record.allowed_input.pre_harvest_interval_days,
                                       "name": record.allowed_input.name, "applied": record.occurred_on}))
    return findings


def _flag(record: FarmRecord, findings: list[Finding]) -> list[Violation]:
    return Violation.objects.bulk_create([
        Violation(cooperative_id=record.cooperative_id, county_id=record.county_id, plot_id=record.plot_id, record=record,
                  kind=f.kind, detail=f.detail[:300]) for f in findings])


def _require_plot(scope: Scope, plot: Plot) -> None:
    """The partner of the plot's station, or staff of its county, keep its records."""
    if scope.is_partner:
        if plot.station_id is None or plot.station_id not in (scope.station_ids or ()):
            raise NotFound(detail="plot")
    elif not scope.may_reach_county(plot.county_id):
        raise NotFound(detail="plot")


def _new_record(*, scope: Scope, plot: Plot, standard: Standard, kind: str, occurred_on, note: str = "", **fields) -> FarmRecord:
    return FarmRecord.objects.create(cooperative_id=plot.cooperative_id, county_id=plot.county_id, station_id=plot.station_id,
                                     plot=plot, member_id=plot.member_id, standard=standard, kind=kind,
                                     occurred_on=occurred_on, note=(note or "")[:500], recorded_by=scope.user, **fields)


@transaction.atomic
def record_input_applied(*, scope: Scope, plot: Plot, input_name: str, dose_total, dose_unit: str = "",
                         applied_on: datetime.date, note: str = "", photos=()) -> FarmRecord:
    """Record an input applied to a plot, checked at once; a breach is saved and flagged.

    The plot comes from plot_get_for_actor, so only the partner of the member's station
    and the county's staff reach it.
    """
    _require_plot(scope, plot)
    name = (input_name or "").strip()
    if not name:
        raise ValidationError({"input_name": [_("Name the input that was applied.")]})
    dose = _amount(dose_total, field="dose_total")
    _not_in_future(applied_on, field="applied_on")
    standard = _standard_for_plot(plot, applied_on)
    allowed, per_mu, findings = check_input(standard=standard, plot=plot, name=name, dose_total=dose,
                                            dose_unit=dose_unit, applied_on=applied_on)
    record = _new_record(scope=scope, plot=plot, standard=standard, kind=RecordKind.INPUT_APPLIED, occurred_on=applied_on,
                         note=note, allowed_input=allowed, input_name=allowed.name if allowed else name[:80],
                         dose_total=dose, dose_unit=(dose_unit or (allowed.dose_unit if allowed else ""))[:10],
                         dose_per_mu=per_mu, compliant=not findings)
    _flag(record, findings)
    _attach_photos(photos=photos, cooperative=plot.cooperative, actor=scope.user, record=record)
    return record


@transaction.atomic
def record_task_done(*, scope: Scope, plot: Plot, sop_task_id: int, done_on: datetime.date, note: str = "",
                     photos=()) -> FarmRecord:
    """Record an SOP task done on a plot."""
    _require_plot(scope, plot)
    _not_in_future(done_on, field="done_on")
    standard = _standard_for_plot(plot, done_on)
    task = standard.sop_tasks.filter(pk=sop_task_id).first()
    if task is None:
        raise ValidationError({"sop_task_id": [_("Choose a task of the plot's standard.")]})
    record = _new_record(scope=scope, plot=plot, standard=standard, kind=RecordKind.TASK_DONE, occurred_on=done_on,
                         note=note, sop_task=task)
    _attach_photos(photos=photos, cooperative=plot.cooperative, actor=scope.user, record=record)
    return record


@transaction.atomic
def record_observation(*, scope: Scope, plot: Plot, observed_on: datetime.date, note: str, photos=()) -> FarmRecord:
    """Record what was seen on a plot (pests, frost, fruit set), with photos."""
    _require_plot(scope, plot)
    if not (note or "").strip() and not photos:
        raise ValidationError({"note": [_("Write what you saw or attach a photo.")]})
    _not_in_future(observed_on, field="observed_on")
    standard = _standard_for_plot(plot, observed_on)
    record = _new_record(scope=scope, plot=plot, standard=standard, kind=RecordKind.OBSERVATION, occurred_on=observed_on,
                         note=note)
    _attach_photos(photos=photos, cooperative=plot.cooperative, actor=scope.user, record=record)
    return record


@transaction.atomic
def record_harvest(*, scope: Scope, plot: Plot, kg, harvested_on: datetime.date, note: str = "") -> HarvestLot:
    """Record a harvest: a farm record, a harvest lot and its commissioning in the lineage.

    A harvest inside an input's pre-harvest interval is saved and flagged.
    """
    _require_plot(scope, plot)
    weight = _kg(kg, field="kg")
    _not_in_future(harvested_on, field="harvested_on")
    standard = _standard_for_plot(plot, harvested_on)
    findings = harvest_phi_findings(plot=plot, harvested_on=harvested_on)
    record = _new_record(scope=scope, plot=plot, standard=standard, kind=RecordKind.HARVEST, occurred_on=harvested_on,
                         note=note, harvest_kg=weight, compliant=not findings)
    _flag(record, findings)
    lot = HarvestLot.objects.create(cooperative_id=plot.cooperative_id, county_id=plot.county_id, station_id=plot.station_id,
                                    code=f"H{harvested_on:%y%m%d}-{codes.random_token(codes.LOT_TOKEN_LENGTH)}",
                                    standard=standard, member_id=plot.member_id, plot=plot, record=record,
                                    harvested_on=harvested_on, kg=weight, compliant=not findings)
    _lineage(cooperative=plot.cooperative, kind=TransformationKind.COMMISSIONING, occurred_on=harvested_on, actor=scope.user,
             inputs=[(ItemKind.PLOT, plot_code(plot), None)], outputs=[(ItemKind.HARVEST_LOT, lot.code, weight)])
    return lot


@transaction.atomic
def central_purchase_record(*, scope: Scope, allowed_input: AllowedInput, supplier: str, quantity, purchased_on,
                            total_fen: int = 0, batch_no: str = ""):
    """Record the cooperative buying an allowed input centrally."""
    from cuntao.produce.models import CentralPurchase

    _require_staff(scope)
    coop = allowed_input.standard.cooperative
    _require_county(scope, coop.county_id)
    purchase = CentralPurchase(cooperative=coop, county_id=coop.county_id, allowed_input=allowed_input, supplier=supplier,
                               quantity=_amount(quantity, field="quantity"), purchased_on=purchased_on,
                               total_fen=total_fen, batch_no=batch_no, recorded_by=scope.user)
    purchase.full_clean()
    purchase.save()
    return purchase


# --- inspections ------------------------------------------------------------------------------

def _require_inspector(scope: Scope, cooperative_id: int) -> None:
    if cooperative_id not in inspector_cooperative_ids(scope=scope):
        raise NotFound(detail="cooperative not assigned to inspector")


@transaction.atomic
def inspection_record(*, scope: Scope, plot: Plot, checkpoint_id: int, result: str, inspected_on: datetime.date,
                      note: str = "", photos=()) -> Inspection:
    """Record an inspector's result at a checkpoint; a failure opens a violation on the plot."""
    _require_inspector(scope, plot.cooperative_id)
    _not_in_future(inspected_on, field="inspected_on")
    checkpoint = InspectionCheckpoint.objects.filter(pk=checkpoint_id, standard__cooperative_id=plot.cooperative_id).first()
    if checkpoint is None:
        raise ValidationError({"checkpoint_id": [_("Choose a checkpoint of the cooperative's standard.")]})
    if result not in InspectionResult.values:
        raise ValidationError({"result": [_("The result is passed or failed.")]})
    note = (note or "").strip()
    if result == InspectionResult.FAILED and not note:
        raise ValidationError({"note": [_("Say what failed, so the farmer can put it right.")]})
    inspection = Inspection.objects.create(cooperative_id=plot.cooperative_id, county_id=plot.county_id, plot=plot,
                                           checkpoint=checkpoint, inspector=scope.user, inspected_on=inspected_on,
                                           result=result, note=note[:500])
    if result == InspectionResult.FAILED:
        Violation.objects.create(cooperative_id=plot.cooperative_id, county_id=plot.county_id, plot=plot,
                                 inspection=inspection, kind=ViolationKind.INSPECTION_FAILED,
                                 detail=f"{checkpoint.name}: {note}"[:300])
    _attach_photos(photos=photos, cooperative=plot.cooperative, actor=scope.user, inspection=inspection)
    return inspection


@transaction.atomic
def violation_clear(*, scope: Scope, violation: Violation, note: str) -> Violation:
    """Clear an open violation with the inspector's note; the plot's fruit may be branded again."""
    _require_inspector(scope, violation.cooperative_id)
    violation = Violation.objects.select_for_update().get(pk=violation.pk)
    if violation.status != ViolationStatus.OPEN:
        raise Conflict(_("This violation was already cleared."), code="already_cleared")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("Say why the violation is cleared (what was checked, what was done).")]})
    violation.status = ViolationStatus.CLEARED
    violation.cleared_by = scope.user
    violation.cleared_at = timezone.now()
    violation.clear_note = note[:500]
    violation.save(update_fields=["status", "cleared_by", "cleared_at", "clear_note"])
    return violation


# --- grading ------------------------------------------------------------------------------------

def _clean_samples(samples) -> list[tuple[int, Decimal]]:
    cleaned, errors = [], {}
    samples = list(samples or [])
    if not samples:
        raise ValidationError({"samples": [_("Weigh and measure at least one sample fruit.")]})
    if len(samples) > MAX_SAMPLES:
        raise ValidationError({"samples": [_("At most %(max)s samples.") % {"max": MAX_SAMPLES}]})
    for i, sample in enumerate(samples):
        try:
            weight_g, brix = sample
            weight_g, brix = int(weight_g), Decimal(str(brix)).quantize(Decimal("0.1"))
        except (TypeError, ValueError, InvalidOperation):
            errors[f"samples.{i}"] = [_("A sample is a weight in grams and a °Brix reading.")]
            continue
        if not 0 < weight_g <= 5000:
            errors[f"samples.{i}.weight_g"] = [_("A fruit weighs between 1 g and 5000 g.")]
        if not (brix.is_finite() and 0 <= brix <= 40):
            errors[f"samples.{i}.brix"] = [_("°Brix is between 0 and 40.")]
        cleaned.append((weight_g, brix))
    if errors:
        raise ValidationError(errors)
    return cleaned


def _best_grade(grades, weight_g, brix):
    return next((g for g in grades if g.admits(weight_g=weight_g, brix=brix)), None)


def _clean_grade_kg(grades_by_code: dict, grade_kg: dict) -> dict:
    if not grade_kg:
        raise ValidationError({"grades": [_("Give the kilograms of at least one grade.")]})
    unknown = sorted(code for code in grade_kg if code not in grades_by_code)
    if unknown:
        raise ValidationError({"grades": [_("The standard has no grade %(codes)s.") % {"codes": ", ".join(unknown)}]})
    cleaned = {code: _kg(kg, field=f"grades.{code}", allow_zero=True) for code, kg in grade_kg.items()}
    cleaned = {code: kg for code, kg in cleaned.items() if kg > 0}
    if not cleaned:
        raise ValidationError({"grades": [_("Give the kilograms of at least one grade.")]})
    return cleaned


def _share(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split total in proportion to weights in whole grams; the last takes the rounding."""
    whole = sum(weights)
    parts = [(total * w / whole).quantize(GRAM, rounding=ROUND_DOWN) for w in weights[:-1]]
    return [*parts, total - sum(parts)]


def _lock_harvest_lots(lots: list[HarvestLot]) -> list[HarvestLot]:
    locked = list(HarvestLot.objects.select_for_update().filter(pk__in=[h.pk for h in lots]).order_by("pk"))
    return sorted(locked, key=lambda h: [x.pk for x in lots].index(h.pk))


@transaction.atomic
def grading_record(*, scope: Scope, harvest_lots: list[HarvestLot], grade_kg: dict, samples, graded_on: datetime.date) -> Grading:
    """Grade whole harvest lots into graded lots, one per grade, with contributions and lineage.

    The graded kilograms may add up to less than the harvest (culls, loss), never more;
    each grade given must be met by at least one sample fruit.
    """
    _require_staff(scope)
    if not harvest_lots:
        raise ValidationError({"harvest_lots": [_("Choose the harvest lots to grade.")]})
    if len({h.pk for h in harvest_lots}) != len(harvest_lots):
        raise ValidationError({"harvest_lots": [_("A harvest lot is listed twice.")]})
    _not_in_future(graded_on, field="graded_on")
    lots = _lock_harvest_lots(harvest_lots)
    closed = [h.code for h in lots if h.status != LotStatus.OPEN]
    if closed:
        raise Conflict(_("Harvest lot %(codes)s is already graded; its lineage cannot change.") % {"codes": ", ".join(closed)},
                       code="lot_closed")
    standards = {h.standard_id for h in lots}
    if len(standards) != 1 or len({h.cooperative_id for h in lots}) != 1:
        raise ValidationError({"harvest_lots": [_("Grade together only lots of one cooperative and one standard.")]})
    if any(h.harvested_on > graded_on for h in lots):
        raise ValidationError({"graded_on": [_("Fruit cannot be graded before it is harvested.")]})
    standard = Standard.objects.select_related("cooperative").get(pk=standards.pop())
    _require_county(scope, standard.county_id)
    grades = list(standard.grades.order_by("rank"))
    grades_by_code = {g.code: g for g in grades}
    cleaned_kg = _clean_grade_kg(grades_by_code, grade_kg)
    cleaned_samples = _clean_samples(samples)
    input_kg = sum((h.kg for h in lots), Decimal(0))
    graded_kg = sum(cleaned_kg.values(), Decimal(0))
    if graded_kg > input_kg:
        raise ValidationError({"grades": [_("The grades add up to %(graded)s kg, more than the %(input)s kg harvested.")
                                          % {"graded": kg_text(graded_kg), "input": kg_text(input_kg)}]})
    unmet = [code for code in cleaned_kg
             if not any(grades_by_code[code].admits(weight_g=w, brix=b) for w, b in cleaned_samples)]
    if unmet:
        specs = "; ".join(_("%(code)s needs ≥%(g)s g and ≥%(brix)s °Brix") % {
            "code": c, "g": grades_by_code[c].min_weight_g, "brix": grades_by_code[c].min_brix} for c in unmet)
        raise ValidationError({"samples": [_("No sample fruit meets grade %(codes)s (%(specs)s).")
                                           % {"codes": ", ".join(unmet), "specs": specs}]})
    coop = standard.cooperative
    token = codes.random_token(codes.LOT_TOKEN_LENGTH)
    grading = Grading.objects.create(cooperative=coop, county_id=coop.county_id, standard=standard,
                                     code=f"S{graded_on:%y%m%d}-{token}", graded_on=graded_on, input_kg=input_kg,
                                     loss_kg=input_kg - graded_kg, graded_by=scope.user)
    GradingInput.objects.bulk_create([GradingInput(grading=grading, harvest_lot=h, kg=h.kg) for h in lots])
    GradingSample.objects.bulk_create([GradingSample(grading=grading, weight_g=w, brix=b, grade=_best_grade(grades, w, b))
                                       for w, b in cleaned_samples])
    HarvestLot.objects.filter(pk__in=[h.pk for h in lots]).update(status=LotStatus.CLOSED)
    outputs = []
    for code, kg in cleaned_kg.items():
        grade = grades_by_code[code]
        graded = GradedLot.objects.create(cooperative=coop, county_id=coop.county_id, grading=grading, standard=standard,
                                          grade=grade, code=f"G{graded_on:%y%m%d}{code}-{token}"[:20], kg=kg,
                                          branded=grade.branded)
        GradedContribution.objects.bulk_create([
            GradedContribution(graded_lot=graded, county_id=coop.county_id, member_id=h.member_id, plot_id=h.plot_id,
                               harvest_lot=h, kg=part) for h, part in zip(lots, _share(kg, [h.kg for h in lots]), strict=True)])
        outputs.append((ItemKind.GRADED_LOT, graded.code, kg))
    _lineage(cooperative=coop, kind=TransformationKind.GRADING, occurred_on=graded_on, actor=scope.user, grading=grading,
             inputs=[(ItemKind.HARVEST_LOT, h.code, h.kg) for h in lots], outputs=outputs)
    return grading


# --- packing -------------------------------------------------------------------------------------

def blocked_plots(*, graded_lot: GradedLot) -> set[int]:
    """Contributing plots with an open violation: their fruit may not go into branded boxes."""
    plot_ids = graded_lot.contributions.values_list("plot_id", flat=True)
    return open_violation_plot_ids(plot_ids=plot_ids)


def plots_short_of_inspections(*, graded_lot: GradedLot) -> set[int]:
    """Contributing plots with fewer passed pre-harvest inspections than the supervision plan asks.

    Only inspections at before-harvest checkpoints, dated on or before that plot's harvest, count.
    """
    required = graded_lot.standard.inspections_before_harvest
    if not required:
        return set()
    harvests = dict(graded_lot.contributions.values_list("plot_id", "harvest_lot__harvested_on"))
    passed = Inspection.objects.filter(plot_id__in=list(harvests), result=InspectionResult.PASSED,
                                       checkpoint__before_harvest=True).values_list("plot_id", "inspected_on")
    counts = dict.fromkeys(harvests, 0)
    for plot_id, day in passed:
        if day <= harvests[plot_id]:
            counts[plot_id] += 1
    return {plot_id for plot_id, n in counts.items() if n < required}


@transaction.atomic
def packing_record(*, scope: Scope, graded_lot: GradedLot, pack_size: PackSize, box_count: int,
                   packed_on: datetime.date) -> Packing:
    """Pack branded boxes from a graded lot, each with its own traceability code.

    Refused when the boxes would hold more than the lot has left, when the grade is not
    branded, or while a contributing plot has an open violation.
    """
    _require_staff(scope)
    _require_county(scope, graded_lot.county_id)
    if not isinstance(box_count, int) or isinstance(box_count, bool) or not 0 < box_count <= MAX_BOXES_PER_PACKING:
        raise ValidationError({"box_count": [_("Pack between 1 and %(max)s boxes at a time.") % {"max": MAX_BOXES_PER_PACKING}]})
    _not_in_future(packed_on, field="packed_on")
    lot = (GradedLot.objects.select_for_update(of=("self",)).select_related("grade", "grading", "cooperative", "standard")
           .get(pk=graded_lot.pk))
    if lot.status != LotStatus.OPEN:
        raise Conflict(_("Graded lot %(code)s is fully packed and closed.") % {"code": lot.code}, code="lot_closed")
    if not lot.branded:
        raise Conflict(_("Grade %(grade)s is not sold under the brand.") % {"grade": lot.grade.code}, code="not_branded")
    if pack_size.standard_id != lot.standard_id or pack_size.grade_id != lot.grade_id:
        raise ValidationError({"pack_size_id": [_("Choose a pack of this lot's standard and grade (%(grade)s).")
                                                % {"grade": lot.grade.code}]})
    if blocked_plots(graded_lot=lot):
        raise Conflict(_("A plot in this lot has an open violation; an inspector must clear it before branded packing."),
                       code="open_violation")
    short = plots_short_of_inspections(graded_lot=lot)
    if short:
        raise Conflict(_("%(count)s plot(s) in this lot had fewer than %(required)s passed inspections before harvest; "
                         "fruit without the supervision the standard asks for is not sold under the brand.")
                       % {"count": len(short), "required": lot.standard.inspections_before_harvest},
                       code="inspections_missing")
    if packed_on < lot.grading.graded_on:
        raise ValidationError({"packed_on": [_("Fruit cannot be packed before it is graded.")]})
    need_kg = (Decimal(pack_size.net_weight_g) * box_count / 1000).quantize(GRAM)
    if need_kg > lot.unpacked_kg:
        raise ValidationError({"box_count": [_("%(count)s boxes of %(pack)s need %(need)s kg; the lot has %(left)s kg left.")
                                             % {"count": box_count, "pack": pack_size.name, "need": kg_text(need_kg),
                                                "left": kg_text(lot.unpacked_kg)}]})
    coop = lot.cooperative
    packing = Packing.objects.create(cooperative=coop, county_id=coop.county_id, graded_lot=lot, pack_size=pack_size,
                                     code=f"K{packed_on:%y%m%d}-{codes.random_token(codes.LOT_TOKEN_LENGTH)}",
                                     packed_on=packed_on, box_count=box_count, packed_by=scope.user)
    boxes = PackedBox.objects.bulk_create([
        PackedBox(cooperative=coop, county_id=coop.county_id, packing=packing, graded_lot=lot, pack_size=pack_size,
                  code=codes.new_box_code(), net_weight_g=pack_size.net_weight_g, packed_on=packed_on)
        for _i in range(box_count)])
    lot.packed_kg = F("packed_kg") + need_kg
    lot.save(update_fields=["packed_kg"])
    lot.refresh_from_db(fields=["packed_kg"])
    # A lot with less left than the smallest pack of its grade can take no more boxes.
    smallest = PackSize.objects.filter(standard_id=lot.standard_id, grade_id=lot.grade_id).order_by("net_weight_g").first()
    if smallest is None or lot.unpacked_kg * 1000 < smallest.net_weight_g:
        GradedLot.objects.filter(pk=lot.pk).update(status=LotStatus.CLOSED)
    _lineage(cooperative=coop, kind=TransformationKind.PACKING, occurred_on=packed_on, actor=scope.user, packing=packing,
             inputs=[(ItemKind.GRADED_LOT, lot.code, need_kg)],
             outputs=[(ItemKind.BOX, b.code, Decimal(b.net_weight_g) / 1000) for b in boxes])
    return packing


# --- box status (used by the shop) ----------------------------------------------------------------

BOX_TRANSITIONS = {
    BoxStatus.IN_STOCK: {BoxStatus.RESERVED, BoxStatus.SOLD},
    BoxStatus.RESERVED: {BoxStatus.SOLD, BoxStatus.IN_STOCK},
    BoxStatus.SOLD: {BoxStatus.SHIPPED, BoxStatus.IN_STOCK},  # back to stock: a paid order cancelled before shipping
    BoxStatus.SHIPPED: set(),
}


@transaction.atomic
def box_reserve(*, box_ids: list[int], order_ref: str, actor=None, to_status: str = BoxStatus.RESERVED) -> int:
    """Take in-stock boxes for one order, all or none; return how many were taken.

    One conditional UPDATE ... WHERE status='in_stock': of two orders racing for a box,
    the database lets exactly one change the row; the loser gets Conflict.
    """
    if not order_ref:
        raise ValidationError({"order_ref": [_("Name the order the boxes are for.")]})
    ids = sorted(set(box_ids))
    taken = (PackedBox.objects.filter(pk__in=ids, status=BoxStatus.IN_STOCK)
             .update(status=to_status, order_ref=order_ref[:40], status_changed_at=timezone.now()))
    if taken != len(ids):
        raise Conflict(_("Some of these boxes were just sold to someone else."), code="box_sold")
    counties = dict(PackedBox.objects.filter(pk__in=ids).values_list("pk", "county_id"))
    BoxEvent.objects.bulk_create([BoxEvent(box_id=pk, county_id=counties[pk], from_status=BoxStatus.IN_STOCK,
                                           to_status=to_status, order_ref=order_ref[:40], actor=actor) for pk in ids])
    return taken


@transaction.atomic
def box_set_status(*, box: PackedBox, to_status: str, actor=None, note: str = "") -> PackedBox:
    """Move a box along in_stock -> reserved -> sold -> shipped, or back to stock before it ships."""
    box = PackedBox.objects.select_for_update().get(pk=box.pk)
    if to_status not in BOX_TRANSITIONS.get(box.status, set()):
        raise Conflict(_("A box that is %(from)s cannot become %(to)s.") % {"from": box.status, "to": to_status},
                       code="bad_box_transition")
    if to_status != BoxStatus.IN_STOCK and not box.order_ref:
        raise Conflict(_("Reserve the box for an order first."), code="no_order")
    from_status = box.status
    box.status = to_status
    if to_status == BoxStatus.IN_STOCK:
        box.order_ref = ""
    box.status_changed_at = timezone.now()
    box.save(update_fields=["status", "order_ref", "status_changed_at"])
    BoxEvent.objects.create(box=box, county_id=box.county_id, from_status=from_status, to_status=to_status,
                            order_ref=box.order_ref, actor=actor, note=note[:300])
    return box


# --- scans and counterfeit flags --------------------------------------------------------------------

# A genuine box is scanned by a buyer, maybe a few relatives, in one or two places.
MAX_DISTINCT_PLACES = 3
SIBLING_FACTOR = 10
MIN_SCANS_FOR_SIBLING_CHECK = 20


def coarse_network(ip: str) -> str:
    """The client's network, never its address: IPv4 /24 or IPv6 /48."""
    import ipaddress

    try:
        addr = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def _suspicion(box: PackedBox) -> str:
    """Why the box's scans look like a copied code, or ''."""
    from cuntao.produce.models import ScanRecord

    scans = ScanRecord.objects.filter(box=box)
    scans = scans.order_by()  # no default ordering, or DISTINCT would compare times too
    places = set(scans.exclude(city="").values_list("city", flat=True).distinct()[:MAX_DISTINCT_PLACES + 1])
    if len(places) > MAX_DISTINCT_PLACES:
        return _("scanned in more than %(n)s cities") % {"n": MAX_DISTINCT_PLACES}
    if not places:
        networks = set(scans.exclude(network="").values_list("network", flat=True).distinct()[:MAX_DISTINCT_PLACES * 2 + 1])
        if len(networks) > MAX_DISTINCT_PLACES * 2:
            return _("scanned from more than %(n)s networks") % {"n": MAX_DISTINCT_PLACES * 2}
    if box.scan_count >= MIN_SCANS_FOR_SIBLING_CHECK:
        average = (PackedBox.objects.filter(packing_id=box.packing_id).exclude(pk=box.pk)
                   .aggregate(average=Avg("scan_count"))["average"] or 0)
        if box.scan_count > SIBLING_FACTOR * max(average, 1):
            return _("scanned %(n)s times, far more than the other boxes of its packing") % {"n": box.scan_count}
    return ""


def scan_record(*, box: PackedBox, city: str = "", ip: str = "", via_digital_link: bool = False) -> None:
    """Count a scan of a box's public page and flag the box if its scans look copied.

    No scope: anyone may scan. A counter update and one insert; the flag check reads
    only this box's scans.
    """
    from cuntao.produce.models import ScanRecord

    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A scan is worth less than a commit's disk flush: losing the last few on a
            # crash is fine, and the page answers sooner.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        ScanRecord.objects.create(box=box, county_id=box.county_id, city=(city or "").strip()[:40],
                                  network=coarse_network(ip), via_digital_link=via_digital_link)
        PackedBox.objects.filter(pk=box.pk).update(scan_count=F("scan_count") + 1)
        box.scan_count += 1
        if box.suspect_since is None:
            reason = _suspicion(box)
            if reason:
                PackedBox.objects.filter(pk=box.pk).update(suspect_since=timezone.now(), suspect_reason=reason[:200])
