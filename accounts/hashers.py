"""Password hashing: Argon2id at OWASP's minimum parameters.

Django's Argon2 defaults (100 MiB, parallelism 8) cost half a second of CPU or more per login
on a small server: when an on-sale opens and everyone logs in at once, logins queue the
bookings behind them. OWASP's password storage guidance gives as its first acceptable
configuration Argon2id with 19 MiB of memory, 2 iterations and parallelism 1. Hashes made with
other parameters still verify, and Django rehashes them with these at the next successful
login (`must_update`), so existing accounts move over by themselves.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
