"""The Typerace wire protocol: shared by the server and every client.

Pure code: stdlib and msgpack only. No sockets, no clocks.
"""

PROTOCOL_VERSION = 1

# WebSocket close codes in the application range (4000-4999) that the server uses.
CLOSE_REPLACED = 4000       # the same player (same token) connected again elsewhere
