"""Signals the customers app sends, for the apps above it to hold up their part of data rights.

`personal_data_collect`
    Sent with `customer` while a data export is built. Each receiver returns a
    `customers.privacy.DataSection` with what its app holds about that customer, and the
    models the section covers (a test checks that every model referring to a customer is
    covered by some section).

`customer_erased`
    Sent with `customer` and their former `email` inside the erasure's database
    transaction, after the customer's own profile has been anonymised. Each receiver
    removes or anonymises its app's personal data about that customer (texts, photos,
    addresses) and keeps what the books need.
"""

from django.dispatch import Signal

personal_data_collect = Signal()
customer_erased = Signal()

# Sent by customers for its own notices (customers.notices listens), inside the database
# transaction that made the change; apps above may listen too.

# `connection_confirmed`: a friends-list request was accepted. Arguments: `connection`
# (Connection, status confirmed, with `requester`, who asked, and `addressee`, who accepted).
connection_confirmed = Signal()

# `data_export_ready`: a customer's data export finished. Arguments: `export` (DataExport,
# with `customer`).
data_export_ready = Signal()
