"""The self-checking testbench of a generated design: DIR/rtl/tb/, run by one command.

Writes, next to a design's rtl folder (rtl/files.f, rtl/mem/), the folder rtl/tb/ holding:
hwgen_tb.sv (the hand-written testbench core, copied from templates/rtl/tb), hwgen_tb_top.sv (it
binds the core's parameters: the top's stream widths, the vectors' counts, the hang limit),
tb.f (the sources, paths relative to tb.f), the test vectors (inputs.hex: {s_tlast, s_tdata} per
input transfer; expected.hex: {m_tlast, m_tclass, m_tdata} per output transfer, from the int64
reference; states.hex: one initial-state word per sequence), run.sh and README.md.

run.sh works from any working directory and writes only below it (see run.sh.j2). Every value
it holds is computed here and is either fixed text or shell-quoted; the only user text, the
design's source name, is kept as safe_text in a comment. The files depend only on the model, the
sequences and the states, so they are byte-identical for the same inputs. A stateful design's
sequences are chunks of one stream: the expected outputs carry the state from each chunk into the
next (the testbench resets once, at the start).
"""
from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import numpy as np

from hwgen.codegen.design import state_description
from hwgen.codegen.env import TEMPLATES, render, safe_text
from hwgen.codegen.folder import publish
from hwgen.ir.graph import LoweredModel, execute, execute_chunks
from hwgen.passes.cycles import cycle_parameters
from hwgen.types import HwgenError, IntType

TB_DIR = "tb"  # DIR/rtl/tb/
DEFAULT_SEQUENCES = 20  # test sequences written by default (all: an option of `hwgen hw`)
CORE = "hwgen_tb.sv"
TOP = "hwgen_tb_top"
LISTING = "tb.f"
INPUTS, EXPECTED, STATES = "inputs.hex", "expected.hex", "states.hex"
RUN_DIR = "hwgen_tb"  # run.sh's folder in the current directory: build products, waveform
TRACE_FILE = "hwgen_tb.vcd"  # run.sh --trace (VCD: needs nothing beyond Verilator and g++)
TRACE_FST = "hwgen_tb.fst"  # run.sh --trace-fst (Verilator's FST writer needs lz4 and zlib headers)
TRACE_DEFINE = "HWGEN_TB_TRACE"
IDLE_PCT = STALL_PCT = 25  # default chances of an idle input cycle and of a stalled output cycle
# The model's C++ optimisation: -Os (Verilator's default) compiles much slower. Traced, -O0: the
# lstm4b model with FST tracing compiles in ~3.5 min at -O0 and not within 17 min at -O1.
OPT_FAST, TRACE_OPT_FAST = "-O1", "-O0"


def _word(codes, width: int) -> int:
    """Return codes packed two's complement, element k at bits [k*width, (k+1)*width)."""
    mask = (1 << width) - 1
    return sum((int(v) & mask) << (k * width) for k, v in enumerate(codes))


def _hex_lines(words, bits: int) -> str:
    """Return one $readmemh line per word, ceil(bits/4) hex digits each."""
    digits = -(-bits // 4)
    return "".join(f"{w:0{digits}x}\n" for w in words)


def _state_dict(model: LoweredModel, states: np.ndarray) -> dict:
    """Return execute's {(direction, part): codes [B, H]} from per-sequence state vectors [B, K]."""
    out, start = {}, 0
    for s in model.states:
        out[(s.layer, s.part)] = states[:, start:start + s.count]
        start += s.count
    return out


def _outputs(model: LoweredModel, codes: np.ndarray, state: np.ndarray | None) -> list:
    """Return the output transfers of one sequence [T, I]: (data codes, class, tlast) each."""
    states = _state_dict(model, state[None, :]) if state is not None else None
    return _transfers(model, execute(model, codes[:, None, :], states), len(codes))


def _stream_outputs(model: LoweredModel, sequences: list) -> list:
    """Return each sequence's output transfers on a stateful model: the sequences are chunks of
    one stream, each starting from the state the one before ended in (zero at the first: the
    testbench resets once)."""
    results = execute_chunks(model, [np.asarray(s, dtype=np.int64)[:, None, :]
                                      for s in sequences])
    return [_transfers(model, res, len(s)) for res, s in zip(results, sequences)]


def _transfers(model: LoweredModel, res: dict, steps: int) -> list:
    """Return the output transfers (data codes, class, tlast) of execute's result res of one
    sequence of `steps` steps."""
    if model.per_step:  # scores and class of every step
        return [(res["scores"][t, 0], int(res["class"][t, 0]), int(t == steps - 1))
                for t in range(steps)]
    if model.head is not None:
        return [(res["scores"][0], int(res["class"][0]), 1)]
    steps = res["outputs"][:, 0, :]
    return [(row, 0, int(t == len(steps) - 1)) for t, row in enumerate(steps)]


def vectors(model: LoweredModel, sequences: list, states: list | None = None) -> dict:
    """Return the text of inputs.hex, expected.hex and states.hex and the transfer counts.

    sequences: int64 input codes [T_i, in_count] each; states: one code vector per sequence
    (its state slices' codes concatenated in model.states order), zeros when None.
    """
    if not sequences:
        raise HwgenError("the testbench needs at least one test sequence")
    x_w, y_w = model.input.type.width, model.out_type.width
    c_w = model.class_type.width
    width = state_description(model)["width"] if model.states else 0
    if model.states and states is None:
        count = sum(s.count for s in model.states)
        states = [np.zeros(count, dtype=np.int64) for _ in sequences]
    ins, outs, words = [], [], []
    streamed = _stream_outputs(model, sequences) if model.stateful else None
    for k, seq in enumerate(sequences):
        seq = np.asarray(seq, dtype=np.int64)
        last = len(seq) - 1
        ins += [(int(t == last) << (x_w * model.in_count)) | _word(row, x_w)
                for t, row in enumerate(seq)]
        state = np.asarray(states[k], dtype=np.int64) if model.states else None
        transfers = streamed[k] if streamed else _outputs(model, seq, state)
        for data, cls, tlast in transfers:
            outs.append((tlast << (y_w * model.out_count + c_w))
                        | (cls << (y_w * model.out_count)) | _word(data, y_w))
        if model.states:
            words.append(_state_word(model, state))
    return {INPUTS: _hex_lines(ins, x_w * model.in_count + 1),
            EXPECTED: _hex_lines(outs, y_w * model.out_count + c_w + 1),
            STATES: _hex_lines(words or [0], max(width, 1)),
            "in_n": len(ins), "out_n": len(outs), "seqs": len(sequences)}


def _state_word(model: LoweredModel, state: np.ndarray) -> int:
    """Return a sequence's packed state word (state_description's slices at their offsets)."""
    word, start = 0, 0
    for s in state_description(model)["slices"]:
        word |= _word(state[start:start + s["count"]], s["width"]) << s["offset"]
        start += s["count"]
    return word


def _limits(model: LoweredModel) -> tuple:
    """Return (QUIET, DRAIN): cycles without a transfer that mean a hang, cycles to wait for a
    stray output; a buffering design is silent for about a whole sequence's latency."""
    cycles = cycle_parameters(model)
    per_item = cycles["per_step"] + cycles["head"]
    quiet = 1000 + 20 * per_item + 4 * cycles.get("max_steps_latency", 0)
    return quiet, 20 + 2 * per_item


def _params(model: LoweredModel, vec: dict) -> list:
    """Return the testbench core's (parameter, value) pairs."""
    quiet, drain = _limits(model)
    state = state_description(model)["width"] if model.states else 0
    return [("X_W", model.in_count * model.input.type.width),
            ("Y_W", model.out_count * model.out_type.width), ("C_W", model.class_type.width),
            ("S_W", state), ("SEQS", vec["seqs"]), ("IN_N", vec["in_n"]),
            ("OUT_N", vec["out_n"]), ("QUIET", quiet), ("DRAIN", drain),
            ("IDLE_PCT", IDLE_PCT), ("STALL_PCT", STALL_PCT),
            ("INPUTS", f'"{TB_DIR}/{INPUTS}"'), ("EXPECTED", f'"{TB_DIR}/{EXPECTED}"'),
            ("STATES", f'"{TB_DIR}/{STATES}"')]


def _bus(width: int) -> str:
    """Return the SystemVerilog type of a `width`-bit bus (IntType renders it)."""
    return IntType(width, False).sv()


def _wiring(model: LoweredModel, params: list) -> dict:
    """Return the wrapper's wires, the testbench core's port bindings and hwgen_top's ports."""
    width = dict(params)
    buses = [("s_tdata", width["X_W"]), ("m_tdata", width["Y_W"]), ("m_tclass", width["C_W"])]
    flags = ["clk", "rst", "s_tvalid", "s_tlast", "s_tready", "m_tvalid", "m_tlast", "m_tready"]
    state = ["s_state_tvalid", "s_state_tready"] if model.states else []
    if model.states:
        buses.append(("s_state_tdata", width["S_W"]))
    wires = [(_bus(w), name) for name, w in buses] + [(_bus(1), n) for n in flags + state]
    dut = [name for _, name in wires]
    tb = [(name, name) for name in dut]
    if not model.states:  # the core's state stream stays open; nothing takes a state word
        tb += [("s_state_tdata", ""), ("s_state_tvalid", ""), ("s_state_tready", "1'b0")]
    open_ = "" if model.states else "no state stream: the core's s_state_* outputs stay open"
    return {"wires": wires, "tb_ports": tb, "dut_ports": dut, "open": open_}


def _script_context(source: str, seqs: int) -> dict:
    """Return run.sh's values, each shell-quoted (all are fixed names; quoting keeps them inert)."""
    names = {"run_dir": RUN_DIR, "trace_file": TRACE_FILE, "trace_fst": TRACE_FST, "mem_dir": "mem", "top": TOP,
             "binary": "V" + TOP, "tb_dir": TB_DIR, "listing": LISTING, "inputs": INPUTS,
             "expected": EXPECTED, "states": STATES, "trace_define": TRACE_DEFINE,
             "opt": OPT_FAST, "trace_opt": TRACE_OPT_FAST, "idle": str(IDLE_PCT),
             "stall": str(STALL_PCT)}
    return {"source": safe_text(source), "sequences": seqs,
            **{k: shlex.quote(v) for k, v in names.items()}}


def _write(tmp: Path, model: LoweredModel, vec: dict, source: str) -> None:
    """Write the testbench files into the empty folder tmp."""
    shutil.copyfile(TEMPLATES / "rtl" / "tb" / CORE, tmp / CORE)
    params = _params(model, vec)
    ctx = {"source": safe_text(source), "sequences": vec["seqs"], "params": params,
           **_wiring(model, params)}
    (tmp / f"{TOP}.sv").write_text(render("rtl/tb/hwgen_tb_top.sv.j2", ctx))
    (tmp / LISTING).write_text(f"-F ../files.f\n{CORE}\n{TOP}.sv\n")
    for name in (INPUTS, EXPECTED) + ((STATES,) if model.states else ()):
        (tmp / name).write_text(vec[name])
    script = _script_context(source, vec["seqs"])
    (tmp / "run.sh").write_text(render("rtl/tb/run.sh.j2", script))
    (tmp / "run.sh").chmod(0o755)
    (tmp / "README.md").write_text(render("rtl/tb/README.md.j2", script))


def emit_testbench(model: LoweredModel, rtl_dir, sequences: list, source: str = "",
                   states: list | None = None) -> Path:
    """Write rtl_dir/tb/ (whole or not at all) for the design of model in rtl_dir; return it.

    sequences: the input codes [T_i, in_count] of the test sequences; states: one initial-state
    code vector per sequence for a design with state inputs (zeros when None).
    """
    rtl_dir = Path(rtl_dir)
    if not (rtl_dir / "files.f").is_file():
        raise HwgenError(f"{rtl_dir}: no files.f (write the design's RTL first)")
    vec = vectors(model, sequences, states)
    return publish(rtl_dir / TB_DIR, lambda tmp: _write(tmp, model, vec, source))


__all__ = ["emit_testbench", "vectors", "DEFAULT_SEQUENCES", "TB_DIR", "RUN_DIR", "TRACE_FILE"]
