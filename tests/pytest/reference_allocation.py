"""Reference implementation of payment allocation and days past due. Test code only.

Written as plain loops over Decimal money straight from docs/decisions.md ("Payment allocation is an as-of
snapshot") and the contract's terms, so that the set-based SQL (int_linked_payments, int_payment_allocation,
fct_invoices) has an independent check. It is meant to be obviously right, not fast.

Input is the *valid* rows (what staging keeps): ids as text, dates as datetime.date, money as Decimal,
currencies upper-case with the base currency filled in. Rules, as of date D:

* What counts: invoices issued on or before D that are posted (not void) and not credit notes; payments
  dated on or before D; credit notes (not void) dated on or before D.
* Linked first: payments are taken in (payment_date, payment_id) order; one naming a payable invoice pays
  what is left of it. A payment in another currency converts at the payment date's rates
  (payment -> base -> invoice currency, rounded once to the cent, half away from zero). What exceeds the
  invoice is customer credit in the invoice's currency, dated on the payment date
  (source type `linked_payment_excess`). A payment naming no invoice, or one that cannot take it (void, a
  credit note, issued after D, or in another currency when the invoice currency has no rate on the payment
  date), is credit in full in its own currency (`unapplied_payment`).
* Credit pays oldest due date first: per customer and currency, credits in (credit_date, source_type,
  source_id) order -- source types compare as text: 'credit_note' < 'linked_payment_excess' <
  'unapplied_payment' -- pay the invoices' remainders in (due_date, invoice_date, invoice_id) order.
  Credit never crosses currencies; what is left is the customer's unapplied credit.
* The allocation date of a piece is the later of the credit (payment) date and the invoice date.
  settled_date = latest allocation date of a fully paid invoice; days_late = max(0, settled - due).
* Days past due = D - due_date while anything is unpaid and D > due_date, else 0; the aging bucket is the
  DPD's bucket in the default convention (seeds/aging_buckets.csv).
* Base currency: amount_base at the invoice date's rate, outstanding_base at D's rate (latest rate on or
  before the day), both rounded to the cent.
"""
from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

BASE_CURRENCY = "CNY"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

CREDIT_NOTE = "credit_note"
LINKED_PAYMENT = "linked_payment"
LINKED_PAYMENT_EXCESS = "linked_payment_excess"
UNAPPLIED_PAYMENT = "unapplied_payment"

# The default aging convention (issue 3; seeds/aging_buckets.csv): code, min DPD, max DPD (None = open).
DEFAULT_AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("not_due", 0, 0),
    ("dpd_1_30", 1, 30),
    ("dpd_31_60", 31, 60),
    ("dpd_61_90", 61, 90),
    ("dpd_91_120", 91, 120),
    ("dpd_121_180", 121, 180),
    ("dpd_181_plus", 181, None),
)


@dataclass(frozen=True)
class Invoice:
    invoice_id: str
    customer_id: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal
    currency: str = BASE_CURRENCY
    document_type: str = "invoice"  # or "credit_note"
    status: str = "posted"  # or "void"

    @property
    def is_void(self) -> bool:
        return self.status == "void"

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == "credit_note"


@dataclass(frozen=True)
class Payment:
    payment_id: str
    customer_id: str
    payment_date: dt.date
    amount: Decimal
    currency: str = BASE_CURRENCY
    invoice_id: str | None = None  # None = unapplied


@dataclass(frozen=True)
class FxRate:
    currency: str
    rate_date: dt.date
    rate_to_base: Decimal


@dataclass
class Piece:
    """Money applied to one invoice from one source."""
    invoice_id: str
    source_type: str
    source_id: str
    amount: Decimal
    allocation_date: dt.date


@dataclass
class Credit:
    """One source of customer credit and what is left of it after allocation."""
    customer_id: str
    currency: str
    credit_date: dt.date
    source_type: str
    source_id: str
    amount: Decimal
    left: Decimal


@dataclass
class InvoiceResult:
    invoice_id: str
    customer_id: str
    currency: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal
    paid_amount: Decimal
    outstanding_amount: Decimal
    settled_date: dt.date | None
    days_late: int | None
    days_past_due: int
    aging_bucket: str
    amount_base: Decimal
    outstanding_base: Decimal
    pieces: list[Piece] = field(default_factory=list)


@dataclass
class AllocationResult:
    as_of: dt.date
    invoices: dict[str, InvoiceResult]
    credits: list[Credit]
    received: dict[tuple[str, str], Decimal]  # (customer, currency) -> money received as of D (see below)

    def unapplied_credit(self) -> dict[tuple[str, str], Decimal]:
        """(customer, currency) -> credit not applied to any invoice; every pair that has a credit."""
        out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for credit in self.credits:
            out[(credit.customer_id, credit.currency)] += credit.left
        return dict(out)

    def allocated(self) -> dict[tuple[str, str], Decimal]:
        """(customer, currency) -> money applied to invoices (linked and from credit)."""
        out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for inv in self.invoices.values():
            out[(inv.customer_id, inv.currency)] += inv.paid_amount
        return dict(out)


class MissingRate(LookupError):
    """No rate on or before the day: staging would have quarantined the document."""


def round_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class FxTable:
    """The contract's rate rule: the latest rate on or before a day; the base currency is 1."""

    def __init__(self, rates: Iterable[FxRate], base_currency: str = BASE_CURRENCY):
        self.base_currency = base_currency
        self.by_currency: dict[str, list[FxRate]] = defaultdict(list)
        for rate in rates:
            self.by_currency[rate.currency].append(rate)
        for series in self.by_currency.values():
            series.sort(key=lambda r: r.rate_date)
        self.dates = {currency: [r.rate_date for r in series] for currency, series in self.by_currency.items()}

    def rate(self, currency: str, day: dt.date) -> Decimal:
        if currency == self.base_currency:
            return Decimal(1)
        series = self.by_currency.get(currency, [])
        position = bisect.bisect_right(self.dates.get(currency, []), day)  # rates dated on or before day
        if position == 0:
            raise MissingRate(f"no {currency} rate on or before {day}")
        return series[position - 1].rate_to_base

    def convert(self, amount: Decimal, from_currency: str, to_currency: str, day: dt.date) -> Decimal:
        """amount in from_currency -> to_currency at the day's rates (via base), rounded once to the cent."""
        if from_currency == to_currency:
            return amount
        with localcontext() as ctx:
            ctx.prec = 60
            exact = amount * self.rate(from_currency, day) / self.rate(to_currency, day)
            return round_cents(exact)


def aging_bucket(days_past_due: int, buckets=DEFAULT_AGING_BUCKETS) -> str:
    for code, low, high in buckets:
        if days_past_due >= low and (high is None or days_past_due <= high):
            return code
    raise ValueError(f"no aging bucket for DPD {days_past_due}")


def allocate(
    invoices: Iterable[Invoice],
    payments: Iterable[Payment],
    fx_rates: Iterable[FxRate],
    as_of: dt.date,
    base_currency: str = BASE_CURRENCY,
    buckets=DEFAULT_AGING_BUCKETS,
) -> AllocationResult:
    """Allocate payments and credit notes to invoices as of `as_of` (rules in the module docstring)."""
    fx = FxTable(fx_rates, base_currency)
    invoices = list(invoices)
    payments = list(payments)

    payable = {
        inv.invoice_id: inv
        for inv in invoices
        if not inv.is_void and not inv.is_credit_note and inv.invoice_date <= as_of
    }
    remaining = {invoice_id: inv.amount for invoice_id, inv in payable.items()}
    pieces: dict[str, list[Piece]] = {invoice_id: [] for invoice_id in payable}
    credits: list[Credit] = []
    received: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)

    # 1. linked payments, in (payment_date, payment_id) order
    counted = sorted((p for p in payments if p.payment_date <= as_of), key=lambda p: (p.payment_date, p.payment_id))
    for pay in counted:
        inv = payable.get(pay.invoice_id) if pay.invoice_id is not None else None
        try:
            money = fx.convert(pay.amount, pay.currency, inv.currency, pay.payment_date) if inv else None
        except MissingRate:  # the invoice's currency has no rate yet on the payment date
            money = None
        if money is None:
            credits.append(Credit(pay.customer_id, pay.currency, pay.payment_date, UNAPPLIED_PAYMENT,
                                  pay.payment_id, pay.amount, pay.amount))
            received[(pay.customer_id, pay.currency)] += pay.amount
            continue
        received[(pay.customer_id, inv.currency)] += money
        applied = min(money, remaining[inv.invoice_id])
        if applied > 0:
            remaining[inv.invoice_id] -= applied
            pieces[inv.invoice_id].append(Piece(inv.invoice_id, LINKED_PAYMENT, pay.payment_id, applied,
                                                max(pay.payment_date, inv.invoice_date)))
        excess = money - applied
        if excess > 0:
            credits.append(Credit(pay.customer_id, inv.currency, pay.payment_date, LINKED_PAYMENT_EXCESS,
                                  pay.payment_id, excess, excess))

    # 2. credit notes dated on or before the as-of date
    for note in invoices:
        if note.is_credit_note and not note.is_void and note.invoice_date <= as_of:
            credits.append(Credit(note.customer_id, note.currency, note.invoice_date, CREDIT_NOTE,
                                  note.invoice_id, note.amount, note.amount))
            received[(note.customer_id, note.currency)] += note.amount

    # 3. credit pays the oldest due date first, per customer and currency
    queues: dict[tuple[str, str], list[Invoice]] = defaultdict(list)
    for inv in sorted(payable.values(), key=lambda inv: (inv.due_date, inv.invoice_date, inv.invoice_id)):
        queues[(inv.customer_id, inv.currency)].append(inv)
    credits.sort(key=lambda c: (c.credit_date, c.source_type, c.source_id))
    for credit in credits:
        for inv in queues[(credit.customer_id, credit.currency)]:
            if credit.left <= 0:
                break
            take = min(credit.left, remaining[inv.invoice_id])
            if take <= 0:
                continue
            remaining[inv.invoice_id] -= take
            credit.left -= take
            pieces[inv.invoice_id].append(Piece(inv.invoice_id, credit.source_type, credit.source_id, take,
                                                max(credit.credit_date, inv.invoice_date)))

    # 4. per invoice figures
    results: dict[str, InvoiceResult] = {}
    for invoice_id, inv in payable.items():
        outstanding = remaining[invoice_id]
        paid = inv.amount - outstanding
        settled = max(p.allocation_date for p in pieces[invoice_id]) if outstanding == 0 else None
        days_late = max(0, (settled - inv.due_date).days) if settled is not None else None
        dpd = (as_of - inv.due_date).days if outstanding > 0 and as_of > inv.due_date else 0
        results[invoice_id] = InvoiceResult(
            invoice_id=invoice_id,
            customer_id=inv.customer_id,
            currency=inv.currency,
            invoice_date=inv.invoice_date,
            due_date=inv.due_date,
            amount=inv.amount,
            paid_amount=paid,
            outstanding_amount=outstanding,
            settled_date=settled,
            days_late=days_late,
            days_past_due=dpd,
            aging_bucket=aging_bucket(dpd, buckets),
            amount_base=round_cents(inv.amount * fx.rate(inv.currency, inv.invoice_date)),
            outstanding_base=round_cents(outstanding * fx.rate(inv.currency, as_of)),
            pieces=pieces[invoice_id],
        )
    return AllocationResult(as_of=as_of, invoices=results, credits=credits, received=dict(received))
