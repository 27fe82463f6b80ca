"""Renders the generated part of the SDK from spec/.

Outputs, each with a header naming its source:
- `sdk/modelwire/providers/<name>.json`: the validated spec, the data a client runs on;
- `sdk/modelwire/providers/<name>.py`: the typed surface of the provider's sync and async
  classes, only what differs per provider (template `templates/provider.py.jinja`);
- `sdk/modelwire/providers/__init__.py`: the provider table (`templates/registry.py.jinja`);
- `sdk/modelwire/wire/<dialect>.py`: pydantic wire models from `spec/schemas/*.json`
  (datamodel-code-generator);
- `sdk/modelwire/_client/_sync.py`: the sync client, derived from the async one.

Python outputs are formatted with ruff, as a post-hook. `--check` writes nothing and fails
when any committed output differs from a fresh run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from .unasync import unasync

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sdk"))

from modelwire.errors import SpecError  # noqa: E402
from modelwire.spec import ProviderSpec, format_validation_error  # noqa: E402

TEMPLATES = Path(__file__).resolve().parent / "templates"
DATAMODEL_ARGS = [
    "--input-file-type",
    "jsonschema",
    "--output-model-type",
    "pydantic_v2.BaseModel",
    "--disable-timestamp",
    "--target-python-version",
    "3.10",
    "--use-standard-collections",
    "--use-union-operator",
    "--use-schema-description",
    "--formatters",
    "builtin",
]


@dataclass(frozen=True)
class Output:
    path: Path
    text: str


def load_specs(spec_dir: Path) -> list[tuple[Path, ProviderSpec]]:
    """Every provider spec, validated; a broken file raises naming the file and the key."""
    from pydantic import ValidationError

    specs: list[tuple[Path, ProviderSpec]] = []
    for path in sorted((spec_dir / "providers").glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SpecError(f"{path}: not valid YAML: {exc}") from None
        try:
            spec = ProviderSpec.model_validate(data)
        except ValidationError as exc:
            raise SpecError(format_validation_error(str(path), exc)) from None
        if spec.name != path.stem:
            raise SpecError(f"{path}: name: {spec.name!r} must match the file name {path.stem!r}")
        specs.append((path, spec))
    names = [spec.class_name for _, spec in specs]
    for _, spec in specs:
        if names.count(spec.class_name) > 1:
            raise SpecError(f"class_name {spec.class_name!r} is used by more than one spec")
    return specs


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def ruff_format(text: str, filename: str) -> str:
    """`text` as `ruff format` writes it: generated code reads like the rest."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", filename, "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SpecError(f"ruff could not format the generated {filename}: {done.stderr}")
    return done.stdout


def render_providers(spec_dir: Path, out_dir: Path) -> list[Output]:
    env = _environment()
    specs = load_specs(spec_dir)
    outputs = []
    for path, spec in specs:
        source = (
            path.relative_to(spec_dir.parent).as_posix()
            if path.is_relative_to(spec_dir.parent)
            else path.name
        )
        annotations = " ".join(option.annotation for option in spec.options)
        text = env.get_template("provider.py.jinja").render(
            spec=spec,
            source=source,
            has_literal="Literal[" in annotations,
        )
        target = out_dir / "providers" / f"{spec.name}.py"
        outputs.append(Output(target, ruff_format(text, target.name)))
        data = spec.model_dump(mode="json", exclude_defaults=True)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        outputs.append(Output(out_dir / "providers" / f"{spec.name}.json", text))
    registry = env.get_template("registry.py.jinja").render(specs=[spec for _, spec in specs])
    outputs.append(Output(out_dir / "providers" / "__init__.py", ruff_format(registry, "x.py")))
    return outputs


def render_wire_models(spec_dir: Path, out_dir: Path) -> list[Output]:
    outputs = []
    for schema in sorted((spec_dir / "schemas").glob("*.json")):
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / f"{schema.stem}.py"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "datamodel_code_generator",
                    "--input",
                    str(schema),
                    "--output",
                    str(target),
                    "--custom-file-header",
                    f"# Generated by datamodel-code-generator from spec/schemas/{schema.name}.\n"
                    "# Do not edit: change the schema and run `nox -s generate`.",
                    *DATAMODEL_ARGS,
                ],
                check=True,
                capture_output=True,
            )
            text = target.read_text(encoding="utf-8")
        outputs.append(Output(out_dir / "wire" / f"{schema.stem}.py", text))
    init = (
        "# Generated by codegen/generate.py. Do not edit.\n"
        '"""Pydantic models of each wire dialect, generated from spec/schemas."""\n'
    )
    outputs.append(Output(out_dir / "wire" / "__init__.py", init))
    return outputs


def render_sync_client(out_dir: Path) -> list[Output]:
    source = (out_dir / "_client" / "_async.py").read_text(encoding="utf-8")
    return [Output(out_dir / "_client" / "_sync.py", ruff_format(unasync(source), "_sync.py"))]


def generate(spec_dir: Path, out_dir: Path, *, wire: bool = True) -> list[Output]:
    outputs = render_providers(spec_dir, out_dir) + render_sync_client(out_dir)
    if wire:
        outputs += render_wire_models(spec_dir, out_dir)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__.split("\n")[0])
    parser.add_argument("--spec-dir", type=Path, default=ROOT / "spec")
    parser.add_argument("--out", type=Path, default=ROOT / "sdk" / "modelwire")
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    parser.add_argument("--no-wire", action="store_true", help="skip the wire models")
    args = parser.parse_args(argv)
    try:
        outputs = generate(args.spec_dir, args.out, wire=not args.no_wire)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    stale = []
    for output in outputs:
        current = output.path.read_text(encoding="utf-8") if output.path.exists() else None
        if current == output.text:
            continue
        stale.append(output.path)
        if not args.check:
            output.path.parent.mkdir(parents=True, exist_ok=True)
            output.path.write_text(output.text, encoding="utf-8")
    if args.check:
        for path in stale:
            print(f"stale generated file: {path} (run `nox -s generate`)", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        print(f"wrote {path}")
    return 0
