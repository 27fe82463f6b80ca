"""The generated provider modules (`modelwire/providers/`): each one's spec, classes and typed
surface, and the provider table."""

from __future__ import annotations

from importlib import import_module

import modelwire
import pytest
from modelwire.providers import PROVIDERS, client_class
from modelwire.spec import read_spec_file

from tests.unit.support import ROOT


def test_provider_options_are_typed_keywords() -> None:
    # the keywords of complete()/stream_completion() (tests/typing checks them with mypy)
    from modelwire.providers import anthropic, ollama, openrouter

    fields = anthropic.AnthropicFields.__annotations__
    assert fields["top_k"].__forward_arg__ == "int | None"
    assert fields["thinking"].__forward_arg__ == "dict[str, Any] | None"
    assert set(modelwire.RequestFields.__annotations__) <= set(fields)
    assert {"num_ctx", "keep_alive"} <= set(ollama.OllamaFields.__annotations__)
    assert {"app_url", "app_title"} <= set(openrouter.OpenRouterSettings.__annotations__)


def test_the_shipped_json_equals_the_yaml() -> None:
    for source in sorted((ROOT / "spec/providers").glob("*.yaml")):
        shipped = ROOT / "sdk/modelwire/providers" / f"{source.stem}.json"
        assert read_spec_file(shipped) == read_spec_file(source), source.name


def test_the_table_names_every_spec_file() -> None:
    assert sorted(PROVIDERS) == sorted(p.stem for p in (ROOT / "spec/providers").glob("*.yaml"))


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_each_module_binds_its_spec_to_both_classes(name: str) -> None:
    module_name, sync_name, async_name = PROVIDERS[name]
    module = import_module(f"modelwire.providers.{module_name}")
    assert module.SPEC.name == name
    assert (module.SPEC.class_name, f"Async{module.SPEC.class_name}") == (sync_name, async_name)
    for cls in (client_class(name), client_class(name, asynchronous=True)):
        assert cls.spec is module.SPEC
        assert cls.__module__ == module.__name__
    assert set(module.__all__) >= {"SPEC", sync_name, async_name}


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_each_fields_class_names_the_specs_options(name: str) -> None:
    module = import_module(f"modelwire.providers.{PROVIDERS[name][0]}")
    fields = getattr(module, f"{module.SPEC.class_name}Fields").__annotations__
    own = set(fields) - set(modelwire.RequestFields.__annotations__)
    assert own == {option.name for option in module.SPEC.options}
