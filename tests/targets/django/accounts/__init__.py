"""The Appmixer user API: accounts, sign-in, signup with its rate limits, and HS256 user tokens."""
