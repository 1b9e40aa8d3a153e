"""Error codes are typed: each is a member of one domain's ErrorCode enum, described for the
GraphQL enum value, worded in every language, raised by some rule, and listed by the
schema's per-mutation enums only as members. A mismatch fails here, not at run time as a
masked "Unexpected error"."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import string
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from graphql import GraphQLEnumType

from config import ROOT
from schema.root import schema
from services.core.errors import CoreError, ErrorCode, RuleError, Sentence
from services.core.messages import LANGUAGES, message_for
from services.questions.errors import QuestionError
from services.security.errors import SecurityError

PRODUCTION = ["services", "resolvers", "schema", "routes", "payments", "mail", "server.py"]


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _domain_enums() -> list[type[ErrorCode]]:
    for module in sorted((ROOT / "services").glob("*/errors.py")):
        importlib.import_module(f"services.{module.parent.name}.errors")
    return list(_subclasses(ErrorCode))


DOMAIN_ENUMS = _domain_enums()
MEMBERS = {member.name: member for enum in DOMAIN_ENUMS for member in enum}


def _production_files() -> Iterator[Path]:
    for name in PRODUCTION:
        path = ROOT / name
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


@dataclasses.dataclass(frozen=True)
class Raise:
    where: str
    code: str  # as written: "AccountError.INVALID_PROOF", or the source of anything else
    reason: str | None


def _rule_errors() -> list[Raise]:
    """Every `RuleError(code, ..., reason=...)` written in the production code."""
    found = []
    for path in _production_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "RuleError"):
                continue
            reason = next((k.value for k in node.keywords if k.arg == "reason"), None)
            found.append(
                Raise(
                    f"{path.relative_to(ROOT)}:{node.lineno}",
                    ast.unparse(node.args[0]) if node.args else "",
                    reason.value if isinstance(reason, ast.Constant) else None,
                )
            )
    return found


RAISES = _rule_errors()


def _member_of(written: str) -> ErrorCode | None:
    enum_name, _, code = written.partition(".")
    return next(
        (m for m in MEMBERS.values() if m.name == code and type(m).__name__ == enum_name), None
    )


def test_the_domains_declare_their_codes() -> None:
    declared = {enum.__name__ for enum in DOMAIN_ENUMS}
    assert {"CoreError", "AccountError", "AuthError", "ReadingError", "QuestionError"} <= declared


def test_a_code_belongs_to_one_domain() -> None:
    seen: dict[str, str] = {}
    twice = []
    for enum in DOMAIN_ENUMS:
        for member in enum:
            if member.name in seen:
                twice.append(f"{member.name} in {seen[member.name]} and {enum.__name__}")
            seen[member.name] = enum.__name__
    assert not twice, "a code shared by domains belongs in CoreError: " + ", ".join(twice)


def test_a_code_is_its_own_name() -> None:
    assert all(member == member.name == member.value for member in MEMBERS.values())


def test_every_code_has_a_description() -> None:
    undescribed = [name for name, member in MEMBERS.items() if not member.description.strip()]
    assert not undescribed, f"codes without a description for client developers: {undescribed}"


def _sentences() -> Iterator[tuple[str, Sentence]]:
    for name, member in MEMBERS.items():
        yield name, member.sentence
        for reason, sentence in member.variants.items():
            yield f"{name}.{reason}", sentence


def test_every_code_has_a_sentence_in_every_language() -> None:
    assert tuple(f.name for f in dataclasses.fields(Sentence)) == LANGUAGES
    unworded = [
        f"{key} ({language})"
        for key, sentence in _sentences()
        for language in LANGUAGES
        if not isinstance(getattr(sentence, language), str) or not getattr(sentence, language)
    ]
    assert not unworded, f"codes without a sentence: {unworded}"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_languages_fill_the_same_placeholders() -> None:
    differing = [
        key
        for key, sentence in _sentences()
        if len({frozenset(_placeholders(getattr(sentence, lang))) for lang in LANGUAGES}) > 1
    ]
    assert not differing, f"ru and en use different {{params}}: {differing}"


def test_rules_raise_members_not_strings() -> None:
    untyped = [f"{r.where}: {r.code}" for r in RAISES if _member_of(r.code) is None]
    assert not untyped, f"RuleError takes a member of a domain's ErrorCode: {untyped}"


def test_every_code_and_every_variant_is_raised_somewhere() -> None:
    raised = {(r.code.partition(".")[2], r.reason) for r in RAISES}
    unused = [name for name in MEMBERS if not any(code == name for code, _ in raised)]
    unused += [
        f"{name}.{reason}"
        for name, member in MEMBERS.items()
        for reason in member.variants
        if (name, reason) not in raised
    ]
    assert not unused, f"sentences no rule can show (codes or variants never raised): {unused}"


def test_every_reason_given_has_its_sentence() -> None:
    missing = [
        f"{r.where}: {r.code} reason={r.reason}"
        for r in RAISES
        if r.reason is not None
        and (member := _member_of(r.code)) is not None
        and r.reason not in member.variants
    ]
    assert not missing, f"reasons without a variant sentence: {missing}"


def _mutation_error_enums() -> list[GraphQLEnumType]:
    return [
        kind
        for name, kind in schema._schema.type_map.items()
        if isinstance(kind, GraphQLEnumType) and name.endswith("ErrorCode")
    ]


def test_the_schema_lists_error_codes_by_their_domain_members() -> None:
    enums = _mutation_error_enums()
    assert enums
    strangers = [
        f"{kind.name}.{name}" for kind in enums for name in kind.values if name not in MEMBERS
    ]
    assert not strangers, f"per-mutation codes that no domain declares: {strangers}"
    for kind in enums:
        for name, value in kind.values.items():
            assert value.value == name
            assert value.description == MEMBERS[name].description, f"{kind.name}.{name}"


def test_the_customer_reads_the_variant_the_rule_gave_in_their_language() -> None:
    too_short = RuleError(SecurityError.WEAK_PASSWORD, "password", reason="too_short", min=10)
    assert message_for(too_short, "en") == "The password is too short: use at least 10 characters."
    assert message_for(too_short, "de") == message_for(too_short, "ru")  # Russian by default
    assert "10" in message_for(too_short, "ru")
    unknown_reason = RuleError(CoreError.INVALID_AMOUNT, "amount", reason="unheard_of")
    assert message_for(unknown_reason, "en") == CoreError.INVALID_AMOUNT.sentence.en
    missing_param = RuleError(QuestionError.BODY_TOO_LONG, "body")
    assert message_for(missing_param, "en") == QuestionError.BODY_TOO_LONG.sentence.en


# ---------------------------------------------------------------- what a mutation can refuse
# Statically: from each `attempt(work, XError, language)` (the call that turns a rule's
# RuleError into XError userErrors) follow the calls of `work` through resolvers and
# services, collect every `RuleError(Enum.CODE)` on the way, and want each in XErrorCode.
# A `try` whose `except RuleError:` neither names nor re-raises the error stops the codes
# raised inside it (login reads a malformed address as a wrong one, for instance).

CALL_GRAPH_PACKAGES = ("services", "resolvers", "schema")


def _functions() -> dict[tuple[str, str], tuple[ModuleType, ast.AST]]:
    found = {}
    for package in CALL_GRAPH_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            module = importlib.import_module(name)
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    found[(name, node.name)] = (module, node)
    return found


FUNCTIONS = _functions()


def _target(module: ModuleType, expression: ast.expr) -> object | None:
    """What a dotted name (`check_policy`, `auth.register`) means in a module, if it is one."""
    if isinstance(expression, ast.Name):
        return getattr(module, expression.id, None)
    if isinstance(expression, ast.Attribute):
        owner = _target(module, expression.value)
        return getattr(owner, expression.attr, None) if owner is not None else None
    return None


def _function_key(module: ModuleType, call: ast.Call) -> tuple[str, str] | None:
    target = _target(module, call.func)
    if target is None or not callable(target):
        return None
    target = inspect.unwrap(target)
    key = (getattr(target, "__module__", ""), getattr(target, "__name__", ""))
    return key if key in FUNCTIONS else None


def _swallows(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    catches_rule_error = any(getattr(n, "id", None) == "RuleError" for n in names)
    raises = any(isinstance(n, ast.Raise) for n in ast.walk(handler))
    return catches_rule_error and handler.name is None and not raises


def _codes_in(module: ModuleType, node: ast.AST, seen: set[tuple[str, str]]) -> set[str]:
    if isinstance(node, ast.Try) and any(_swallows(h) for h in node.handlers):
        parts: list[ast.AST] = [*node.handlers, *node.orelse, *node.finalbody]
    else:
        parts = list(ast.iter_child_nodes(node))
    codes = set()
    if isinstance(node, ast.Call):
        if getattr(node.func, "id", None) == "RuleError":
            codes.add(ast.unparse(node.args[0]).partition(".")[2])
        elif (key := _function_key(module, node)) is not None:
            codes |= _raisable(key, seen)
    for part in parts:
        codes |= _codes_in(module, part, seen)
    return codes


def _raisable(key: tuple[str, str], seen: set[tuple[str, str]]) -> set[str]:
    if key in seen:
        return set()
    seen.add(key)
    module, node = FUNCTIONS[key]
    return _codes_in(module, node, seen)


def _attempts() -> Iterator[tuple[str, type, set[str]]]:
    for (module_name, _), (module, node) in FUNCTIONS.items():
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "attempt":
                work, error_type = call.args[0], _target(module, call.args[1])
                assert isinstance(work, ast.Call), f"{module_name}:{call.lineno}: attempt(a call)"
                assert error_type is not None, f"{module_name}:{call.lineno}: unknown error type"
                yield f"{module_name}:{call.lineno}", error_type, _codes_in(module, work, set())


def test_every_code_a_mutation_can_raise_is_in_its_enum() -> None:
    attempts = list(_attempts())
    covered = {error_type.code_enum.__name__ for _, error_type, _ in attempts}
    assert covered == {kind.name for kind in _mutation_error_enums()}
    unlisted = [
        f"{where}: {code} not in {error_type.code_enum.__name__}"
        for where, error_type, codes in attempts
        for code in sorted(codes - set(error_type.code_enum.__members__))
    ]
    assert not unlisted, f"codes a mutation can raise but its enum does not list: {unlisted}"
