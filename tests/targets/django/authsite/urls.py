"""The server's routes: the Appmixer user API and Creditsafe Connect's /authenticate; Django's own error
pages answer in the API's JSON error shape."""

from django.urls import path

from accounts.views import SignInView, UserView
from creditsafe.views import AuthenticateView

urlpatterns = [
    path('user/auth', SignInView.as_view()),
    path('user', UserView.as_view()),
    path('authenticate', AuthenticateView.as_view()),
]

handler400 = 'authsite.errors.bad_request'
handler403 = 'authsite.errors.permission_denied'
handler404 = 'authsite.errors.not_found'
handler500 = 'authsite.errors.server_error'
