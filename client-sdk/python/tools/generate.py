"""Generates src/ouro/_generated.py from the repository's schema.graphql.

    python client-sdk/python/tools/generate.py            # rewrite the file
    python client-sdk/python/tools/generate.py --check    # exit 1 when the file is stale

For every GraphQL type it writes a pydantic model (snake_case attributes, camelCase aliases),
for every enum a str Enum, and for every object type a `<Type>Fields` fragment that selects
its scalar fields, which the client's operations spread. tests/test_generated.py fails when
the committed file differs from what this script produces, so a schema change that the client
has not caught up with fails CI.

Only graphql-core is needed (the package's `dev`/`test` extra); the generated file itself
depends on pydantic alone.
"""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import Path

from pydantic import BaseModel

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    Undefined,
    build_schema,
    value_from_ast,
)

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent
SCHEMA = PACKAGE.parent.parent / "schema.graphql"
OUTPUT = PACKAGE / "src" / "ouro" / "_generated.py"

SCALARS = {
    "ID": "str",
    "String": "str",
    "Int": "int",
    "Float": "float",
    "Boolean": "bool",
    "DateTimeISO": "datetime",
    "Cursor": "str",
    "JSON": "Any",
    "JSONObject": "dict[str, Any]",
}

# Scalar fields left out of the default `<Type>Fields` fragments because they can be large;
# the client asks for them where it needs them.
HEAVY_FIELDS = {("DatasetVersion", "profile"), ("Recipe", "fitted"), ("Recipe", "steps")}


def snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return s + "_" if keyword.iskeyword(s) or s in {"model_config", "model_fields"} else s


def py_type(gql_type, *, optional: bool) -> str:
    """The Python annotation of a GraphQL type; `optional` wraps nullable types in `| None`."""
    nullable = not isinstance(gql_type, GraphQLNonNull)
    inner = gql_type.of_type if not nullable else gql_type
    if isinstance(inner, GraphQLList):
        text = f"list[{py_type(inner.of_type, optional=True)}]"
    elif isinstance(inner, GraphQLScalarType):
        text = SCALARS.get(inner.name, "Any")
    else:
        text = inner.name
    return f"{text} | None" if (nullable and optional and text != "Any") else text


def named(gql_type):
    while isinstance(gql_type, (GraphQLNonNull, GraphQLList)):
        gql_type = gql_type.of_type
    return gql_type


def doc_line(description: str | None) -> str | None:
    if not description:
        return None
    return " ".join(description.split())


def field_line(py_name: str, gql_name: str, annotation: str, default: str | None, description: str | None) -> str:
    # A field named like one of BaseModel's (deprecated) helpers replaces it on purpose.
    ignore = "  # type: ignore[assignment]" if hasattr(BaseModel, py_name) else ""
    args = []
    if default is not None:
        args.append(f"default={default}")
    if py_name != gql_name:
        args.append(f"alias={gql_name!r}")
    desc = doc_line(description)
    if desc:
        args.append(f"description={desc!r}")
    if not args:
        return f"    {py_name}: {annotation}{ignore}"
    if default is not None and len(args) == 1:
        return f"    {py_name}: {annotation} = {default}{ignore}"
    return f"    {py_name}: {annotation} = Field({', '.join(args)}){ignore}"


def input_default(field):
    """An input field's default (graphql-core 3.3 keeps it on the AST node only)."""
    if field.default_value is not Undefined:
        return field.default_value
    node = getattr(field, "ast_node", None)
    if node is None or node.default_value is None:
        return Undefined
    return value_from_ast(node.default_value, field.type)


def literal(value) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return "None"
    return repr(value)


def generate(schema_text: str) -> str:
    schema = build_schema(schema_text)
    # Enums first: input models use their members as defaults.
    types = sorted((t for name, t in schema.type_map.items() if not name.startswith("__")), key=lambda t: (not isinstance(t, GraphQLEnumType), t.name))
    root_names = {t.name for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t}
    out: list[str] = [
        '"""Types of Ouro\'s GraphQL API, generated from schema.graphql by tools/generate.py. Do not edit."""',
        "",
        "# ruff: noqa: E501",
        "from __future__ import annotations",
        "",
        "import warnings",
        "from datetime import datetime",
        "from enum import Enum",
        "from typing import Any, Union",
        "",
        "from pydantic import BaseModel, ConfigDict, Field",
        "",
        "",
        "# Fields named like BaseModel's deprecated helpers (e.g. DatasetVersion.schema) replace them on purpose.",
        "SHADOWING_NAMES",
        "",
        "",
        "class OuroModel(BaseModel):",
        '    """Base of every generated type: snake_case attributes, camelCase on the wire, unknown fields ignored."""',
        "",
        '    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=False)',
        "",
    ]
    fragments: dict[str, str] = {}
    unions: list[str] = []
    used_names: set[str] = set()
    model_names: list[str] = []
    for t in types:
        if t.name in root_names or isinstance(t, GraphQLScalarType):
            continue
        desc = doc_line(t.description)
        if isinstance(t, GraphQLEnumType):
            out += ["", f"class {t.name}(str, Enum):"]
            if desc:
                out.append(f"    {desc!r}")
            for value in sorted(t.values):
                out.append(f"    {snake(value) if keyword.iskeyword(value) else value} = {value!r}")
            out.append("")
        elif isinstance(t, GraphQLUnionType):
            unions.append(f"{t.name} = Union[{', '.join(m.name for m in t.types)}]")
        elif isinstance(t, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            is_input = isinstance(t, GraphQLInputObjectType)
            model_names.append(t.name)
            out += ["", f"class {t.name}(OuroModel):"]
            if desc:
                out.append(f"    {desc!r}")
            out.append("")
            selection: list[str] = []
            for fname in sorted(t.fields):
                f = t.fields[fname]
                py_name = snake(fname)
                used_names.add(py_name)
                base = named(f.type)
                if is_input:
                    annotation = py_type(f.type, optional=True)
                    default_value = input_default(f)
                    required = isinstance(f.type, GraphQLNonNull) and default_value is Undefined
                    if default_value is not Undefined and default_value is not None and not isinstance(default_value, (dict, list)):
                        base_enum = named(f.type)
                        default = f"{base_enum.name}.{default_value}" if isinstance(base_enum, GraphQLEnumType) else literal(default_value)
                    else:
                        default = None if required else "None"
                    if default == "None" and not annotation.endswith("| None") and annotation != "Any":
                        annotation += " | None"
                else:
                    scalar_like = isinstance(base, (GraphQLScalarType, GraphQLEnumType))
                    selected = scalar_like and not f.args and (t.name, fname) not in HEAVY_FIELDS
                    if selected:
                        selection.append(fname)
                        annotation = py_type(f.type, optional=True)
                        default = "None" if annotation.endswith("| None") or annotation == "Any" else None
                    else:
                        # Not in the default fragment: present only when an operation selects it.
                        annotation = py_type(f.type, optional=True)
                        if not annotation.endswith("| None") and annotation != "Any":
                            annotation += " | None"
                        default = "None"
                out.append(field_line(py_name, fname, annotation, default, f.description))
            out.append("")
            if not is_input and selection:
                fragments[t.name] = f"fragment {t.name}Fields on {t.name} {{ {' '.join(selection)} }}"
    shadowing = sorted({n for n in used_names if hasattr(BaseModel, n)})
    out[out.index("SHADOWING_NAMES")] = (
        f"warnings.filterwarnings(\"ignore\", message=r'Field name \"({'|'.join(shadowing)})\" in \"\\w+\" shadows', category=UserWarning)"
        if shadowing
        else "# (none)"
    )
    out += ["", *unions, ""]
    out += ["", "# Selections of every scalar field (but the large ones) per object type; operations spread them."]
    out.append("FRAGMENTS: dict[str, str] = {")
    for name in sorted(fragments):
        out.append(f"    {name!r}: {fragments[name]!r},")
    out.append("}")
    out.append("")
    out.append("for _model in (")
    for name in model_names:
        out.append(f"    {name},")
    out.append("):")
    out.append("    _model.model_rebuild()")
    out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    text = generate(SCHEMA.read_text(encoding="utf-8"))
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale: run python {Path(__file__).relative_to(PACKAGE.parent.parent)}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
