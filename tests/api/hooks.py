"""Schemathesis hooks for scripts/api-check: API access tokens from
Gatehouse's own token endpoint (client_credentials), renewed before they
expire, for the client that scripts/api-check registered."""

import os

import requests
import schemathesis


@schemathesis.auth(refresh_interval=120)
class ClientCredentials:
    """A fresh access token every two minutes (tokens live five)."""

    def get(self, case, context):
        response = requests.post(
            os.environ["API_CHECK_TOKEN_URL"],
            data={
                "grant_type": "client_credentials",
                "client_id": os.environ["API_CHECK_CLIENT_ID"],
                "client_secret": os.environ["API_CHECK_CLIENT_SECRET"],
                "scope": os.environ["API_CHECK_SCOPE"],
            },
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
