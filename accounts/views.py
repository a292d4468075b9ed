from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError

from accounts import services
from accounts.models import normalize_email_address
from accounts.serializers import (
    LoginInputSerializer,
    LoginOutputSerializer,
    RefreshInputSerializer,
    RefreshOutputSerializer,
    RegisterInputSerializer,
    UserSerializer,
)
from accounts.tokens import tokens_for
from core.exceptions import InvalidCredentials, TokenNotValid
from core.schema import problems
from core.throttling import LoginFailures, LoginRateThrottle


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_register",
        summary="Create an account",
        request=RegisterInputSerializer,
        responses={201: UserSerializer, **problems(400, 409, 429)},
        description="Create an account. Everyone registers with role `user`; a `role` field "
        "in the body is ignored.",
    )
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_login",
        summary="Sign in with e-mail and password",
        request=LoginInputSerializer,
        responses={200: LoginOutputSerializer, **problems(400, 401, 429)},
        description="Throttled per client address (`THROTTLE_LOGIN`), and failed logins per "
        "account whatever the address (`THROTTLE_LOGIN_FAILURES`): past either, 429 with "
        "`Retry-After`.",
    )
    def post(self, request):
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        failures = LoginFailures(normalize_email_address(data.validated_data["email"]))
        wait = failures.wait()
        if wait is not None:  # checked before the password, or guessing would go on
            raise Throttled(wait, detail="Too many failed logins for this account; retry later.")
        user = authenticate(
            request,
            # The backend looks the address up normalised (UserManager.get_by_natural_key).
            email=data.validated_data["email"],
            password=data.validated_data["password"],
        )
        if user is None:
            failures.record()
            raise InvalidCredentials()
        return Response({**tokens_for(user), "user": UserSerializer(user).data})


class RefreshView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        tags=["auth"],
        operation_id="auth_refresh",
        summary="Exchange a refresh token for new tokens",
        request=RefreshInputSerializer,
        responses={200: RefreshOutputSerializer, **problems(400, 401)},
        description="Exchange a refresh token for a new pair, minted from the account as it is "
        "now (its current role). The old refresh token stops working (rotation). A deleted or "
        "disabled account, or a token revoked by logout or a demotion: 401 `token_not_valid`.",
    )
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.tokens_refresh(refresh=data.validated_data["refresh"]))


class LogoutView(APIView):
    @extend_schema(
        tags=["auth"],
        operation_id="auth_logout",
        summary="Sign out: revoke a refresh token",
        request=RefreshInputSerializer,
        responses={204: None, **problems(400, 401)},
        description="Revoke a refresh token of the caller's.",
    )
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.refresh_token_revoke(user=request.user, refresh=data.validated_data["refresh"])
        except TokenError as exc:
            raise TokenNotValid(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(
        tags=["auth"],
        operation_id="auth_me",
        summary="Show the signed-in account",
        responses={200: UserSerializer, **problems(401)},
    )
    def get(self, request):
        # The permission has read the account row; request.user is it.
        return Response(UserSerializer(request.user).data)
