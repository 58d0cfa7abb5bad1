"""Views authorise, parse, call one service or selector and render: they write no audit event
and open no transaction themselves (services and audited selectors do)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "frontdesk"

# Modules still auditing or opening transactions themselves, to move into services and
# selectors; the test below fails once one of them is clean, so this set only shrinks. None is
# left: a new view module that audits or opens a transaction fails the check instead.
NOT_YET: set[str] = set()

VIEW_MODULES = sorted(
    p
    for p in SOURCE.rglob("views*.py")
    if p.relative_to(SOURCE).as_posix() not in NOT_YET and "migrations" not in p.parts
)


def _name(node: ast.expr) -> str:
    """`transaction.atomic` for `transaction.atomic` or `django.db.transaction.atomic`, the
    bare name for a name; "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _name(node.value)
        return f"{inner.rsplit('.', 1)[-1]}.{node.attr}" if inner else node.attr
    return ""


def _is_forbidden(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    name = _name(target)
    return name in ("audit_record", "audit.audit_record", "services.audit_record") or name in (
        "transaction.atomic",
        "atomic",
    )


def _forbidden_uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        # A call anywhere (context manager or not) and a decorator, called or bare.
        candidates: list[ast.expr] = []
        if isinstance(node, ast.Call):
            candidates.append(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            candidates.extend(node.decorator_list)
        if isinstance(node, ast.With | ast.AsyncWith):
            candidates.extend(item.context_expr for item in node.items)
        if isinstance(node, ast.ImportFrom) and any(
            alias.name in ("audit_record", "atomic") for alias in node.names
        ):
            found.append(f"line {node.lineno}: imports {', '.join(a.name for a in node.names)}")
        found.extend(
            f"line {c.lineno}: {_name(c.func if isinstance(c, ast.Call) else c)}"
            for c in candidates
            if _is_forbidden(c)
        )
    return sorted(set(found))


def test_the_view_modules_are_found() -> None:
    names = {p.relative_to(SOURCE).as_posix() for p in VIEW_MODULES}
    assert {"flow/views.py", "scheduling/views.py", "patients/views.py"} <= names


@pytest.mark.parametrize(
    "module", VIEW_MODULES, ids=[p.relative_to(SOURCE).as_posix() for p in VIEW_MODULES]
)
def test_a_view_module_writes_no_audit_event_and_opens_no_transaction(module: Path) -> None:
    uses = _forbidden_uses(ast.parse(module.read_text(), filename=str(module)))
    assert not uses, (
        f"{module.relative_to(SOURCE)}: a view calls a service or an audited selector "
        f"instead: {uses}"
    )


def test_each_module_let_off_still_needs_it() -> None:
    for name in NOT_YET:
        module = SOURCE / name
        assert module.exists() and _forbidden_uses(ast.parse(module.read_text())), (
            f"{name} is clean or gone: take it out of NOT_YET"
        )


def test_the_check_finds_each_way_of_writing_it() -> None:
    source = """
from django.db import transaction
from frontdesk.audit.services import audit_record

@transaction.atomic
def a(): pass

@transaction.atomic()
def b(): pass

def c():
    with transaction.atomic():
        audit_record(context=None)
    transaction.atomic(lambda: None)
"""
    lines = {
        int(u.split(":", 1)[0].removeprefix("line ")) for u in _forbidden_uses(ast.parse(source))
    }
    assert lines == {3, 5, 8, 12, 13, 14}
