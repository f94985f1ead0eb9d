"""Helpers of the web chat (``app.py``): upload checks, recommendation cards, and the
per-tab session handlers. Nothing here recommends anything: every answer comes from the
assistant API (:mod:`assistant`); these modules only turn browser input into API calls
and API results into HTML."""
