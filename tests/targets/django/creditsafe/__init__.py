"""Creditsafe Connect `POST /authenticate`: the API account, RS256 tokens, and the two request limits."""
