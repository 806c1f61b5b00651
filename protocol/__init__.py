"""The Typerace wire protocol: shared by the server and every client.

Pure code: stdlib and msgpack only. No sockets, no clocks.
"""

PROTOCOL_VERSION = 1
# The wire's enumerations (states, statuses, error and close codes): protocol/codes.py
