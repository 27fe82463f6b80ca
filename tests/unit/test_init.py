"""The package's namespace (`modelwire/__init__.py`): every public name, loaded on first use."""

from __future__ import annotations

import modelwire
import pytest
from modelwire.providers import PROVIDERS, client_class

from tests.unit.support import imported_after


def test_every_public_name_resolves() -> None:
    # every generated class is exported through the registry, with no hand-written list
    for name in PROVIDERS:
        cls = client_class(name)
        assert getattr(modelwire, cls.__name__) is cls
        assert cls.__name__ in modelwire.__all__
    assert set(modelwire._LAZY) <= set(modelwire.__all__)
    for name in modelwire.__all__:
        assert getattr(modelwire, name) is not None, name
    with pytest.raises(AttributeError):
        _ = modelwire.NoSuchThing  # type: ignore[attr-defined]


def test_every_public_error_is_exported() -> None:
    import inspect

    from modelwire import errors

    for name, value in vars(errors).items():
        if inspect.isclass(value) and issubclass(value, errors.ProviderError):
            assert getattr(modelwire, name) is value, name


def test_dir_is_the_public_names() -> None:
    assert dir(modelwire) == sorted(modelwire.__all__)
    assert len(set(modelwire.__all__)) == len(modelwire.__all__)


def test_importing_modelwire_is_cheap_and_names_load_on_first_use() -> None:
    # a fresh interpreter each: what one import pulls in
    assert imported_after("import modelwire") == []
    assert imported_after("import modelwire; modelwire.Message") == ["pydantic", "modelwire.types"]
    # a client class loads without httpx; making the first client loads it
    assert "httpx" not in imported_after("import modelwire; modelwire.OpenAI")
    assert "httpx" in imported_after("import modelwire; modelwire.OpenAI(api_key='k')")


def test_the_optional_integrations_cost_nothing_until_used() -> None:
    # neither `import modelwire` nor a call through a client imports their packages
    call = (
        "import modelwire; from modelwire.testing import MockProvider; "
        "MockProvider().reply('x').complete(messages=[{'role': 'user', 'content': 'hi'}])"
    )
    for code in ("import modelwire", call):
        loaded = imported_after(code)
        assert "opentelemetry" not in loaded and "genai_prices" not in loaded
    assert "opentelemetry" in imported_after("import modelwire; modelwire.otel.hooks")
    assert "genai_prices" not in imported_after("import modelwire; modelwire.cost.estimate")


def test_a_name_loaded_once_is_kept() -> None:
    first = modelwire.Timeout
    assert vars(modelwire)["Timeout"] is first
    assert modelwire.Timeout is first
