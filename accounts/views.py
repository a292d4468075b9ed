from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer

from accounts import services
from accounts.models import User
from accounts.serializers import (
    LoginInputSerializer,
    LoginOutputSerializer,
    RefreshInputSerializer,
    RefreshOutputSerializer,
    RegisterInputSerializer,
    UserSerializer,
)
from accounts.tokens import tokens_for
from evently.exceptions import InvalidCredentials, TokenNotValid
from evently.schema import problems
from evently.throttling import LoginRateThrottle


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_register",
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
        request=LoginInputSerializer,
        responses={200: LoginOutputSerializer, **problems(400, 401, 429)},
    )
    def post(self, request):
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request,
            email=User.objects.normalize_email_address(data.validated_data["email"]),
            password=data.validated_data["password"],
        )
        if user is None:
            raise InvalidCredentials()
        return Response({**tokens_for(user), "user": UserSerializer(user).data})


class RefreshView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        tags=["auth"],
        operation_id="auth_refresh",
        request=RefreshInputSerializer,
        responses={200: RefreshOutputSerializer, **problems(400, 401)},
        description="Exchange a refresh token for a new pair. The old refresh token stops "
        "working (rotation).",
    )
    def post(self, request):
        serializer = TokenRefreshSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except (TokenError, AuthenticationFailed) as exc:
            # AuthenticationFailed: the account was disabled or removed since login.
            raise TokenNotValid(str(exc.args[0] if exc.args else exc)) from exc
        return Response(serializer.validated_data)


class LogoutView(APIView):
    @extend_schema(
        tags=["auth"],
        operation_id="auth_logout",
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
        tags=["auth"], operation_id="auth_me", responses={200: UserSerializer, **problems(401)}
    )
    def get(self, request):
        # The request's user comes from the token's claims; the profile comes from the table.
        user = User.objects.filter(pk=request.user.pk, is_active=True).first()
        if user is None:
            raise TokenNotValid("The account no longer exists or is disabled.")
        return Response(UserSerializer(user).data)
