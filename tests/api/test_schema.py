"""The OpenAPI schema is valid, served, and describes exactly the operations the API tests exercise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from tests.api.conftest import API_TESTS, DESELECTED_API_TESTS, EXERCISED, operation_of

pytestmark = pytest.mark.django_db
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def generate_schema() -> dict[str, Any]:
    generator = SchemaGenerator()  # type: ignore[no-untyped-call]
    schema: dict[str, Any] = generator.get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    return schema


def operations_in(schema: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in schema["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_the_schema_is_valid_openapi_3() -> None:
    schema = generate_schema()

    validate_schema(schema)  # type: ignore[no-untyped-call]
    assert schema["openapi"].startswith("3.")
    assert ("/api/posts/{post_id}/", "PATCH") in operations_in(schema)


def test_the_schema_generates_without_warnings(tmp_path: Path) -> None:
    # A warning means a guessed type or a missing serializer: a client generated from it would lie.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


def test_the_schema_is_served(anonymous_api: APIClient) -> None:
    response = anonymous_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "SoSocial API"


def test_the_docs_page_is_served(anonymous_api: APIClient) -> None:
    # Swagger UI's settings come from a script URL of its own, so the page runs no inline script.
    for page in ("/api/docs/?script=", "/api/docs/redoc/"):
        response = anonymous_api.get(page)
        assert response.status_code == 200
        assert b"/api/schema/" in response.content


def test_the_docs_pages_load_their_scripts_from_our_own_static_files(anonymous_api: APIClient) -> None:
    for page in ("/api/docs/", "/api/docs/redoc/"):
        content = anonymous_api.get(page).content.decode()
        assert "/static/drf_spectacular_sidecar/" in content
        assert "cdn.jsdelivr.net" not in content


def test_a_link_that_is_empty_until_published_is_not_documented_as_a_uri() -> None:
    # "" is no URI: a client validating responses against the schema rejected every unpublished date.
    schemas = generate_schema()["components"]["schemas"]

    for name in ("Entry", "EntryDetail"):
        assert schemas[name]["properties"]["platform_url"] == {
            "type": "string",
            "readOnly": True,
            "description": "Link to the published post; empty until it is published.",
        }


def test_the_schema_documents_a_wrong_password_and_a_bad_page() -> None:
    paths = generate_schema()["paths"]

    assert set(paths["/api/token/"]["post"]["responses"]) == {"200", "400", "413", "429"}
    for path in ("/api/accounts/", "/api/posts/", "/api/entries/", "/api/entries/{entry_id}/attempts/"):
        assert "400" in paths[path]["get"]["responses"]
        page, page_size = (
            next(p["schema"] for p in paths[path]["get"]["parameters"] if p["name"] == name)
            for name in ("page", "page_size")
        )
        assert page == {"type": "integer", "minimum": 1}
        assert page_size == {"type": "integer", "minimum": 1, "maximum": 200}


def test_routes_are_named_as_openapi_names_them() -> None:
    assert operation_of("api/entries/<int:entry_id>/cancel/", "post") == (
        "/api/entries/{entry_id}/cancel/",
        "POST",
    )


@pytest.mark.after_all_api_tests
def test_every_operation_in_the_schema_is_exercised_by_a_test(request: pytest.FixtureRequest) -> None:
    running = {Path(item.path) for item in request.session.items}
    missing_modules = set(API_TESTS.glob("test_*.py")) - running
    if missing_modules or DESELECTED_API_TESTS:
        pytest.skip("only meaningful when the whole API suite runs")

    documented = operations_in(generate_schema())
    exercised = {(path, method) for path, method in EXERCISED if method.lower() in HTTP_METHODS}
    undocumented_routes = {"/api/schema/", "/api/docs/", "/api/docs/redoc/"}

    assert documented - exercised == set(), "operations in the schema that no test calls"
    assert {op for op in exercised - documented if op[0] not in undocumented_routes} == {
        ("/api/posts/{post_id}/", "PUT")  # the 405 test: a method the schema rightly leaves out
    }
