"""The package's namespace (`modelwire/__init__.py`): every public name, loaded on first use."""

from __future__ import annotations

import modelwire
import pytest
from modelwire.providers import PROVIDERS, client_class


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
