"""The Typerace server."""
