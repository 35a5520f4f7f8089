"""The Appmixer user endpoints: `POST /user/auth` (sign in), `POST /user` (create user, rate limited) and
`GET /user` (the token's user)."""

from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import AppmixerTokenAuthentication
from accounts.permissions import CanCreateUsers
from accounts.serializers import CurrentUserSerializer, SignInSerializer, SignUpSerializer, UserSerializer
from accounts.throttles import signup_throttles
from accounts.tokens import issue_token
from authsite.api import JsonApiView


def signed_in(user):
    return Response({'user': UserSerializer(user).data, 'token': issue_token(user)})


class SignInView(JsonApiView):
    """Sign-in is not rate limited (the signup limits are the documented ones)."""

    def post(self, request):
        serializer = SignInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return signed_in(serializer.authenticated_user())


class UserView(JsonApiView):
    authentication_classes = [AppmixerTokenAuthentication]

    def get_permissions(self):
        if self.request.method == 'POST':
            return [CanCreateUsers()]
        return [IsAuthenticated()]

    def get_throttles(self):
        if self.request.method == 'POST':
            return [throttle() for throttle in signup_throttles()]
        return []

    def get(self, request):
        return Response(CurrentUserSerializer(request.user).data)

    def post(self, request):
        serializer = SignUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return signed_in(serializer.save())
