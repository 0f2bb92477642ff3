"""Responses sent in parts: once the status line is out, an error cannot become an error page.

A download that fails half-way must not carry ``HTTP/1.1 500 …`` inside its body (what a
middleware rendering an error page would write after the first chunks). The error middlewares
of the console, the API and the web chat re-raise instead when :func:`response_started`;
aiohttp then closes the connection without the final chunk, and the client sees an
incomplete download, never a file that looks whole.
"""

from __future__ import annotations

from aiohttp import web


def response_started(request: web.Request) -> bool:
    """Whether bytes of a response to ``request`` have been written already (the rule aiohttp
    itself uses before it sends an error answer)."""
    return request.writer.output_size > 0
