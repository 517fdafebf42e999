"""The token dealer's pure core: keys and their rotation plan, client registry, secret hashing,
brute-force throttling, and the client-credentials grant itself. No HTTP, no clock of its own.
"""
