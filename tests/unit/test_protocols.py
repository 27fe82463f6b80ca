"""The seed API as protocols (`modelwire._protocols`): every client satisfies them."""

from __future__ import annotations

from importlib import import_module

import modelwire
from modelwire.providers import PROVIDERS, client_class
from modelwire.testing import MockProvider


def test_every_client_satisfies_the_seed_protocols() -> None:
    for name in PROVIDERS:
        spec = import_module(f"modelwire.providers.{name}").SPEC
        kwargs = {"api_key": "sk-test"} if spec.auth.type != "none" else {}
        # a setting that fills the base URL (Bedrock's region)
        kwargs.update({s.name: "us-east-1" for s in spec.settings if s.in_base_url})
        if "{resource}" in spec.base_url:  # a shape to fill in (Azure's resource)
            kwargs["base_url"] = spec.base_url.replace("{resource}", "test")
        sync_client = client_class(name)(**kwargs)
        async_client = client_class(name, asynchronous=True)(**kwargs)
        assert isinstance(sync_client, modelwire.ModelProvider)
        assert isinstance(async_client, modelwire.AsyncModelProvider)
        sync_client.close()


def test_what_is_not_a_provider() -> None:
    class TextOnly:
        def complete(self, request: object, /) -> object:
            return request

    assert not isinstance(TextOnly(), modelwire.ModelProvider)
    assert not isinstance(object(), modelwire.AsyncModelProvider)
    assert isinstance(MockProvider(), modelwire.ModelProvider)
