"""An Appmixer (cloud) and Creditsafe Connect authentication server on FastAPI, written from their public
documents: the Appmixer user API (`appmixer.py`), Creditsafe Connect's `/authenticate` (`creditsafe.py`), their
rate limits (`throttling.py`, `lockout.py`) and one error shape for every answer (`errors.py`)."""
