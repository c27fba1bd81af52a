"""Signals the customers app sends: for the apps above it to hold up their part of data
rights, and for notices (customers.notices listens; apps above may too).

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

`connection_confirmed`
    Sent with `connection` (status confirmed; `requester` asked, `addressee` accepted)
    inside the transaction that confirmed a friends-list request.

`data_export_ready`
    Sent with `export` (a DataExport, with `customer`) inside the transaction that marked
    the archive ready to download.
"""

from django.dispatch import Signal

personal_data_collect = Signal()
customer_erased = Signal()
connection_confirmed = Signal()
data_export_ready = Signal()
