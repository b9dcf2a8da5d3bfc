"""A Django test client that talks to /api with a fresh bearer token for a user."""

import json
from typing import Any

from django.test import Client

from kehu.accounts.models import User
from kehu.accounts.services import create_api_token


class ApiClient:
    """JSON requests to /api as one user (or anonymous, or with a given raw token)."""

    def __init__(self, user: User | None = None, *, raw_token: str | None = None) -> None:
        if user is not None:
            _token, raw_token = create_api_token(user, "tests")
        headers = {"authorization": f"Bearer {raw_token}"} if raw_token else {}
        self.client = Client(headers=headers)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(f"/api{path}", params or {})

    def send(self, method: str, path: str, body: Any = None, *, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return getattr(self.client, method)(
            f"/api{path}", data=data, content_type="application/json"
        )

    def post(self, path: str, body: Any = None, **options: Any) -> Any:
        return self.send("post", path, body, **options)

    def patch(self, path: str, body: Any = None, **options: Any) -> Any:
        return self.send("patch", path, body, **options)

    def put(self, path: str, body: Any = None, **options: Any) -> Any:
        return self.send("put", path, body, **options)


def error_paths(response: Any) -> list[list[str | int]]:
    return [field["path"] for field in response.json()["error"]["fields"]]
