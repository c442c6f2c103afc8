"""Every write to the stock ledger. Entry points import from here."""

from reliefops.stock.services.counts import CountLine, stock_count
from reliefops.stock.services.kits import kits_assemble, kits_break
from reliefops.stock.services.ledger import UNRESOLVED, LineRequest, NothingPosted, Posting, PostingResult
from reliefops.stock.services.locations import (
    donor_location,
    partner_location,
    singleton_location,
    site_location,
    unattributed_grant,
)
from reliefops.stock.services.operations import (
    LossReason,
    ReceiptLine,
    StockLine,
    stock_distribute,
    stock_handover_to_partner,
    stock_receive,
    stock_report_loss,
)
from reliefops.stock.services.pledges import pledge_cancel, pledge_cancelled_message, pledge_create
from reliefops.stock.services.reversals import movement_reverse
from reliefops.stock.services.waybills import (
    DeliveryLine,
    DispatchResult,
    waybill_confirm_delivery,
    waybill_dispatch,
)

__all__ = [
    "UNRESOLVED",
    "CountLine",
    "DeliveryLine",
    "DispatchResult",
    "LineRequest",
    "LossReason",
    "NothingPosted",
    "Posting",
    "PostingResult",
    "ReceiptLine",
    "StockLine",
    "donor_location",
    "kits_assemble",
    "kits_break",
    "movement_reverse",
    "partner_location",
    "pledge_cancel",
    "pledge_cancelled_message",
    "pledge_create",
    "singleton_location",
    "site_location",
    "stock_count",
    "stock_distribute",
    "stock_handover_to_partner",
    "stock_receive",
    "stock_report_loss",
    "unattributed_grant",
    "waybill_confirm_delivery",
    "waybill_dispatch",
]
