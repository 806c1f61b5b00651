"""Clients of the public protocol: the web page (web/), a terminal client, bots."""
