"""The Typerace wire protocol: shared by the server and every client.

Pure code: stdlib and msgpack only. No sockets, no clocks.
"""

PROTOCOL_VERSION = 1
