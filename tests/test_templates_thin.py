"""Templates only bind: no arithmetic and no gate names in any Jinja template.

Every width, range, slice, count and name of a generated file comes from the Python context
(hwgen/codegen); a template may test booleans and loop over lists. The scan looks at every .j2
under templates/: arithmetic operators (+ - * / // %) inside {{ }} and {% %} (string literals
and the whitespace-control marks {%- -%} {{- -}} {%+ aside), gate names as words inside tags
(input, forget, cell, output), and the per-gate signal names act_i/act_f/act_c/act_o anywhere.
"""
from __future__ import annotations

import re

import pytest

from hwgen.codegen.env import TEMPLATES

TAG = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)
STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
ARITHMETIC = re.compile(r"[-+*/%]")
GATE_WORD = re.compile(r"\b(input|forget|cell|output)\b")
GATE_SIGNAL = re.compile(r"\bact_[ifco]\b")


def _inner(tag: str) -> str:
    """Return a tag's expression without its whitespace-control marks."""
    return re.sub(r"^[-+]|-$", "", tag)


def problems(text: str) -> list:
    """Return what makes a template more than a binding of context values (empty: it is thin)."""
    found = [f"per-gate signal {m.group(0)!r}" for m in GATE_SIGNAL.finditer(text)]
    for m in TAG.finditer(text):
        tag = _inner(m.group(1) if m.group(1) is not None else m.group(2))
        if ARITHMETIC.search(STRING.sub('""', tag)):
            found.append(f"arithmetic in {m.group(0)!r}")
        words = GATE_WORD.findall(tag)
        if words:
            found.append(f"gate name {words[0]!r} in {m.group(0)!r}")
    return found


TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.j2"))


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_only_binds(path):
    assert problems(path.read_text()) == []


def test_the_scan_sees_templates():
    assert {p.relative_to(TEMPLATES).as_posix() for p in TEMPLATE_FILES} >= {
        "rtl/hwgen_top.sv.j2", "hls/hwgen_config.h.j2",
        "hls/hwgen_top.h.j2", "hls/hwgen_top.cpp.j2", "hls/build.tcl.j2"}


@pytest.mark.parametrize("snippet", [
    "{{ a * b - 1 }}", "{{ x + 1 }}", "{% set n = k // 2 %}", "{{ n % 4 }}", "{{- w / 2 -}}",
    "{{ g.act_i }}", ".i_act(act_i)", '{{ "act_c" }}', '{% if g.name == "input" %}',
    "{{ e.cell.width }}", "{{ gate.output }}"])
def test_the_scan_refuses(snippet):
    assert problems(snippet)


@pytest.mark.parametrize("snippet", [
    "{%- for p in e.ports %}", "{%+ for k, v in group %}", "{{ '-' if flag else '' }}",
    "{{ name }}{{ \",\" if not loop.last else \"\" }}", "input  logic clk, // the input gate",
    "{{ stack | length }}", "{{ d.cell_update.name }}"])
def test_the_scan_accepts(snippet):
    assert problems(snippet) == []


# Lines of the engine template as it was before the engine cores (a75abc0), kept here so the
# test needs no git history.
OLD_ENGINE_LINES = """\
    input  logic [{{ e.x.count * e.x.width - 1 }}:0] s_tdata,
    logic [{{ e.x_mv.rows * e.x_mv.acc_width - 1 }}:0] mx_out;
        .x_acc(mx_out[{{ g.block }}*H*{{ e.x_mv.acc_width }} +: H*{{ e.x_mv.acc_width }}]),
        .f_act({{ e.cell.f_source }}), .i_act(act_i), .g_act(act_c), .c_old(c_state), .c_new(c_new)
    assign h_new = act_{{ e.gates[0].name }};  // the table maps the accumulator straight to h
"""


def test_the_old_engine_template_fails():
    """The engine template before the engine cores computed widths and named gates."""
    found = problems(OLD_ENGINE_LINES)
    assert any(p.startswith("arithmetic") for p in found)
    assert any(p.startswith("per-gate signal") for p in found)
