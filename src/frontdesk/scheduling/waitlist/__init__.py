"""The waitlist: patients waiting for an earlier time, and offers of freed time.

`entries` (staff add, change, remove, or book a waiting patient by hand), `offers` (time freed,
accepted, declined, expired), `selectors` (reads), `terms` (what an entry waits for and what
fits it), `steps` (what bookings from the waitlist share), `notices` (messages, through the
post messaging registers), and the staff's pages (`views`, `forms`). The messages' words, the
offer's signed link and the patient's page behind it are messaging's
(`messaging/waitlist_messages.py`, `messaging/views_waitlist_offer.py`).
"""
