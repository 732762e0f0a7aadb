"""The kinds of notice and their translatable texts.

A kind is a string key ("pickup_code") with a text for the villager and, where the
notice goes to a relative on the villager's behalf, a text for the relative. The texts
are gettext_lazy strings with named placeholders, rendered at enqueue time in the
recipient's language. Every text may also use %(villager)s (the villager's name) and
%(station)s (the station's name); the other placeholders are the kind's params.

Apps that need a kind not listed here register it in their AppConfig.ready():

    register_notice_kind(NoticeKind(key="training_reminder", label=_("Training reminder"),
                                    text=_("Training at %(station)s on %(day)s."), params=("day",)))
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cuntao.core.money import format_fen

# Filled in by the notify app for every notice; a caller's params may not override them.
AUTOMATIC_PARAMS = ("villager", "station")


@dataclass(frozen=True)
class NoticeKind:
    key: str
    label: Promise
    text: Promise  # to the villager, by text message, voice or in person
    params: tuple[str, ...] = ()
    text_for_relative: Promise | None = None  # to a relative, about the villager
    # Addressed to one person only (a pay link is for the relative asked to pay): a
    # villager without a phone is told in person, never through their relatives.
    personal: bool = False

    def render(self, params: dict, *, for_relative: bool) -> str:
        """The text with its placeholders filled; call inside translation.override()."""
        template = self.text_for_relative if (for_relative and self.text_for_relative is not None) else self.text
        return str(template) % params


_kinds: dict[str, NoticeKind] = {}


def register_notice_kind(kind: NoticeKind) -> None:
    """Add a kind; registering the same kind again is harmless, a different one under its key is not."""
    known = _kinds.get(kind.key)
    if known is not None and known != kind:
        raise ValueError(f"Notice kind {kind.key!r} is already registered with other texts.")
    clash = set(kind.params) & set(AUTOMATIC_PARAMS)
    if clash:
        raise ValueError(f"Notice kind {kind.key!r}: {sorted(clash)} are filled in automatically.")
    _kinds[kind.key] = kind


def notice_kind(key: str) -> NoticeKind:
    try:
        return _kinds[key]
    except KeyError:
        raise ValueError(f"Unknown notice kind {key!r}; register it with register_notice_kind().") from None


def notice_kind_label(key: str) -> str:
    """The kind's name in the current language, or the key itself for a kind no longer registered."""
    kind = _kinds.get(key)
    return str(kind.label) if kind is not None else key


def notice_kinds() -> list[NoticeKind]:
    return sorted(_kinds.values(), key=lambda k: k.key)


def yuan(fen: int) -> str:
    """Money for a notice's text: ¥12.50 from 1250 fen (see cuntao.core.money)."""
    return format_fen(fen)


# The kinds the commerce and logistics issues send. Texts stay short: one SMS is 70
# Chinese characters, and an old villager hears a voice call once.
BUILT_IN_KINDS = (
    NoticeKind(
        key="order_placed", label=_("Order placed"), params=("order_no", "amount"),
        text=_("%(station)s: your order %(order_no)s is placed, %(amount)s. We will tell you when it arrives."),
        text_for_relative=_("%(station)s: %(villager)s's order %(order_no)s is placed, %(amount)s."),
    ),
    NoticeKind(
        key="order_paid", label=_("Order paid"), params=("order_no", "amount"),
        text=_("%(station)s: %(amount)s received for your order %(order_no)s. Thank you."),
        text_for_relative=_("%(station)s: %(amount)s received for %(villager)s's order %(order_no)s."),
    ),
    NoticeKind(
        key="pay_link", label=_("Pay link for a relative"), params=("order_no", "amount", "url", "expires"),
        personal=True,
        text=_("%(station)s: please pay %(amount)s for %(villager)s's order %(order_no)s: %(url)s "
               "(valid until %(expires)s)."),
    ),
    NoticeKind(
        key="pickup_code", label=_("Parcel pickup code"), params=("code",),
        text=_("%(station)s: your parcel has arrived. Pickup code %(code)s."),
        text_for_relative=_("%(station)s: a parcel for %(villager)s has arrived. Pickup code %(code)s."),
    ),
    NoticeKind(
        key="pickup_reminder", label=_("Parcel waiting reminder"), params=("code", "days"),
        text=_("%(station)s: your parcel has waited %(days)s days. Pickup code %(code)s."),
        text_for_relative=_("%(station)s: %(villager)s's parcel has waited %(days)s days. Pickup code %(code)s."),
    ),
)
for built_in in BUILT_IN_KINDS:
    register_notice_kind(built_in)
