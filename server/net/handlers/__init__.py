"""Request handlers, one module per area; each exports HANDLERS {type: handler}.

A handler is `async def handler(app, conn, request)`: it asks the core to act (passing
the time), replies through the app's delivery, and raises ProtocolError for a client's
mistake. The dispatcher (server/net/dispatch.py) turns errors into `error` messages.
"""
