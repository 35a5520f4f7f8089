"""Bearer-token authentication for DRF: `Authorization: Bearer <Appmixer token>`.

No header means an anonymous request; any other header (a malformed, tampered, `alg: none` or expired token,
or another scheme) is refused with 401.
"""

import jwt
from rest_framework import authentication, exceptions

from accounts.models import User
from accounts.tokens import read_token


class AppmixerTokenAuthentication(authentication.BaseAuthentication):
    keyword = 'bearer'

    def authenticate(self, request):
        header = request.headers.get('Authorization', '').strip()
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != self.keyword:
            raise exceptions.AuthenticationFailed('Bearer token required')
        try:
            claims = read_token(parts[1])
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise exceptions.AuthenticationFailed('Invalid token') from None
        user_id = claims.get('id')
        user = User.objects.filter(pk=user_id).first() if isinstance(user_id, str) else None
        if user is None:
            raise exceptions.AuthenticationFailed('Invalid token')
        return (user, parts[1])

    def authenticate_header(self, request):
        return 'Bearer'
