"""The waitlist: patients waiting for an earlier time, and offers of freed time.

`entries` (staff add, change, remove, or book a waiting patient by hand), `offers` (time freed,
accepted, declined, expired), `selectors` (reads), `terms` (what an entry waits for and what
fits it), `steps` (what bookings from the waitlist share), `notices` (messages through the
outbox) and `tokens` (the patient's signed link). The messages' words are messaging's
(`messaging/waitlist_messages.py`).
"""
