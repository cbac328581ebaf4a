#!/usr/bin/python3
"""Validates qtune JSON documents against the schemas in docs/schema.

usage: validate.py [--strict] SCHEMA_DIR NAME DOCUMENT [NAME DOCUMENT ...]

NAME is a schema file name without .json (check, show-boot, ...). Every
schema in SCHEMA_DIR is first checked against its own metaschema. With
--strict, every object that lists its properties also refuses properties it
does not list: the published schemas allow additions (fields are only ever
added within schema 1), the test does not, so a new field cannot go
undocumented. Exit 0 when every document is valid, 1 when one is not, 2 on
bad usage or a broken schema. Runs with Debian's python3-jsonschema (4.10,
RefResolver) and with newer releases (the referencing library).
"""
import copy
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    sys.stderr.write("validate.py: python3-jsonschema is not installed\n")
    sys.exit(2)


def strict(schema):
    """A copy of schema where every object with properties is closed."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def load_schemas(directory, closed):
    schemas = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        schemas[name[:-5]] = strict(schema) if closed else schema
    return schemas


def make_validator(schema, schemas):
    cls = jsonschema.validators.validator_for(schema)
    try:
        from referencing import Registry
        from referencing.jsonschema import DRAFT202012

        registry = Registry().with_resources(
            (s["$id"], DRAFT202012.create_resource(s)) for s in schemas.values())
        return cls(schema, registry=registry)
    except ImportError:
        store = {s["$id"]: s for s in schemas.values()}
        resolver = jsonschema.RefResolver.from_schema(schema, store=store)
        return cls(schema, resolver=resolver)


def main(argv):
    closed = False
    if argv and argv[0] == "--strict":
        closed = True
        argv = argv[1:]
    if len(argv) < 3 or len(argv) % 2 != 1:
        sys.stderr.write(__doc__)
        return 2
    try:
        schemas = load_schemas(argv[0], closed)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        sys.stderr.write("validate.py: %s: %s\n" % (argv[0], e))
        return 2
    bad = 0
    for name, path in zip(argv[1::2], argv[2::2]):
        if name not in schemas:
            sys.stderr.write("validate.py: no schema %s in %s\n" % (name, argv[0]))
            return 2
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            sys.stderr.write("%s: not a JSON document: %s\n" % (path, e))
            bad += 1
            continue
        errors = sorted(make_validator(schemas[name], schemas).iter_errors(doc),
                        key=lambda e: list(e.absolute_path))
        for e in errors:
            where = "/".join(str(p) for p in e.absolute_path) or "(document)"
            sys.stderr.write("%s: %s: %s: %s\n" % (path, name, where, e.message))
        if errors:
            bad += 1
        else:
            print("%s: valid against %s" % (path, name))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
