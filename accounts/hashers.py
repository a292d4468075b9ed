"""Password hashing: Argon2id at OWASP's minimum parameters, checked with libsodium.

Django's Argon2 defaults (100 MiB, parallelism 8) cost half a second of CPU or more per login
on a small server: when an on-sale opens and everyone logs in at once, logins queue the
bookings behind them. OWASP's password storage guidance gives as its first acceptable
configuration Argon2id with 19 MiB of memory, 2 iterations and parallelism 1. Hashes made with
other parameters still verify, and Django rehashes them with these at the next successful
login (`must_update`), so existing accounts move over by themselves.

The check at every login is the one place Argon2's cost is paid over and over, so it runs on
libsodium (PyNaCl), whose Argon2 fills memory with AVX2/AVX-512 where the processor has them:
the same hash, in the same PHC string, verified in about half the CPU time of argon2-cffi's
build. Hashing a new password (registration, an upgrade) stays with Django's own Argon2 code,
which takes the salt it is given; libsodium would draw its own.
"""

import nacl.exceptions
import nacl.pwhash.argon2id
from django.contrib.auth.hashers import Argon2PasswordHasher

ARGON2ID_PREFIX = "$argon2id$"


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, rest = encoded.split("$", 1)
        assert algorithm == self.algorithm
        phc = "$" + rest
        if not phc.startswith(ARGON2ID_PREFIX):  # argon2i or argon2d, from older Django
            return super().verify(password, encoded)
        try:
            return nacl.pwhash.argon2id.verify(phc.encode("ascii"), password.encode())
        except nacl.exceptions.InvalidkeyError:  # the wrong password, or a malformed hash
            return False
