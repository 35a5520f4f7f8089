"""The two signup rate limits of anonymous `POST /user` (an admin's token bypasses both), with the documented
429 messages.

Both run as DRF throttles, before the serializer, so every attempt counts, those that then fail validation
or turn out duplicates included. The e-mail limit is keyed on the address trimmed and lower-cased; the IP
limit on DRF's get_ident (the peer address, or with TRUST_FORWARDED_FOR=1 the hop the proxy appended).
"""

from django.conf import settings

from accounts.models import normalize_email
from authsite.throttling import WindowedRateThrottle

EMAIL_LIMIT_MESSAGE = 'Too many signup attempts for this email address. Please try again later.'
IP_LIMIT_MESSAGE = 'Too many signup attempts from your IP address. Please try again later.'


def bypasses_limits(user):
    if settings.TARGET_FAULT == 'admin-throttled':
        return False  # the admin check was left out: admins are counted like everyone else
    return bool(user and user.is_authenticated and user.is_admin)


class SignupEmailThrottle(WindowedRateThrottle):
    scope = 'signup_email'
    message = EMAIL_LIMIT_MESSAGE

    def get_cache_key(self, request, view):
        if bypasses_limits(request.user):
            return None
        data = request.data
        email = data.get('email') if isinstance(data, dict) else None
        if not isinstance(email, str):
            return None  # nothing to count it under; the serializer refuses it
        if settings.TARGET_FAULT == 'email-case-kept':
            return self.key_for(email.strip())
        return self.key_for(normalize_email(email))


class SignupIpThrottle(WindowedRateThrottle):
    scope = 'signup_ip'
    message = IP_LIMIT_MESSAGE

    def get_cache_key(self, request, view):
        if bypasses_limits(request.user):
            return None
        return self.key_for(self.get_ident(request))

    def get_ident(self, request):
        if settings.TARGET_FAULT == 'default-get-ident':
            # DRF's get_ident as it behaves with NUM_PROXIES unset: the client's own X-Forwarded-For is the key.
            forwarded = request.headers.get('x-forwarded-for')
            return ''.join(forwarded.split()) if forwarded else request.META.get('REMOTE_ADDR')
        return super().get_ident(request)


def signup_throttles():
    """The two limits in SIGNUP_LIMITER_ORDER; a request the first refuses is never counted by the second."""
    if settings.SIGNUP_LIMITER_ORDER == 'ip-first':
        return [SignupIpThrottle, SignupEmailThrottle]
    return [SignupEmailThrottle, SignupIpThrottle]
