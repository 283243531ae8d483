"""`hwgen search`: a multi-objective search over quantizer widths and folding for one device.

The driver trains the model's spec once (its float model is every trial's starting point), then
runs an Optuna study (NSGA-II, seeded) in generations of `batch` trials: it asks a whole
generation, runs its trials in parallel (a local process pool or tasks on a Ray cluster: the
same rows either way), and tells the results in trial order, so the same seed gives the same
trials whatever the executor or the number of jobs. The study samples the widths; each trial
takes the best folding for them by the cost model (hwgen.search.folding). Objectives: the integer
model's test accuracy (maximised) and the cost, the sum of the design's LUT4, EBR and MULT18
shares of the ECP5 device (minimised), both from the cost model; a budget and a time per step
are constraints. Finished trials live in SEARCH/study.journal and SEARCH/trials.json, so a rerun
resumes; a trial whose parameters were already run reuses its row.

The best trials are then trained with every seed (hwgen.search.screen), and the front of their
mean accuracies' best points verified (hwgen.search.verify): built and checked bit for bit by
the whole flow; their measured figures replace the model's.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

from hwgen.progress import say
from hwgen.search.baseline import load_baseline, with_seeds
from hwgen.search.folding import BUDGET_KEYS, FOLDING_SLACK, violations
from hwgen.search.space import SEARCHED, Space, make_space, starting_points, trial_name, trial_spec
from hwgen.spec import load_spec
from hwgen.types import HwgenError, shown
#: The generic names a budget may use for the ECP5 resources they stand for.
BUDGET_ALIASES = {"LUT": "LUT4", "DSP": "MULT18", "BRAM": "EBR"}


@dataclasses.dataclass(frozen=True)
class Options:
    """How a search runs."""

    device: str = "85k"
    budget: tuple = ()  # ((key, count), ...): at most count of key (BUDGET_KEYS); () = device
    max_ns_per_step: float | None = None
    trials: int = 48
    batch: int = 8  # trials per generation (NSGA-II's population)
    jobs: int = 2
    executor: str = "local"
    address: str | None = None
    seed: int = 0
    qat_epochs: int | None = None  # each trial's QAT after calibration (None: the spec's)
    verify_qat_epochs: int | None = None  # a verified point's QAT (None: the spec's qat_epochs)
    screen: int = 6  # trials trained with every seed before the verified points are chosen
    widths: tuple = (2, 3, 4, 5, 6, 7, 8)
    clock_mhz: float = 100.0  # the clock of the model's time per step (before verification)
    verify: int = 3  # front points built and verified
    seeds: int = 3  # training seeds per verified point
    pnr: bool = True  # place and route the verified points for Fmax
    baseline: str | None = None  # a sweep's folder: its best point is compared with the verified


def parse_budget(text: str | None) -> tuple:
    """Return the budget of --budget "LUT4=40000,MULT18=100" as ((key, count), ...); LUT, DSP
    and BRAM name the ECP5 device's LUT4, MULT18 and EBR."""
    if not text:
        return ()
    out = []
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = key.strip().upper()
        key = BUDGET_ALIASES.get(key, key)
        if key not in BUDGET_KEYS or not value.strip().isdigit() or int(value) < 1:
            raise HwgenError(f"--budget {shown(text)}: give KEY=COUNT pairs with KEY one of "
                             f"{', '.join(BUDGET_KEYS)} (or LUT, DSP, BRAM) and COUNT a "
                             f"positive integer")
        out.append((key, int(value)))
    return tuple(out)


def check_options(o: Options) -> None:
    """Raise HwgenError naming the first option that cannot work (before any training)."""
    from hwgen.sim.synth import device_part

    device_part(o.device)
    if o.executor not in ("local", "ray"):
        raise HwgenError(f"--executor {o.executor!r}: use local or ray")
    for name, value, low in (("--trials", o.trials, 1), ("--batch", o.batch, 2),
                             ("--jobs", o.jobs, 1),
                             ("--qat-epochs", 1 if o.qat_epochs is None else o.qat_epochs, 1),
                             ("--verify", o.verify, 0), ("--seeds", o.seeds, 1),
                             ("--screen", o.screen, 0),
                             ("--verify-qat-epochs",
                              1 if o.verify_qat_epochs is None else o.verify_qat_epochs, 1)):
        if value < low:
            raise HwgenError(f"{name} {value}: give at least {low}")
    if o.max_ns_per_step is not None and o.max_ns_per_step <= 0:
        raise HwgenError(f"--max-ns-per-step {o.max_ns_per_step}: give a positive time")
    if not 1 <= o.clock_mhz <= 1000:
        raise HwgenError(f"--clock-mhz {o.clock_mhz}: give 1..1000")
    if o.executor == "ray":
        from hwgen.sweep.run import check_address

        check_address(o.address)


def task_spec(task: dict):
    """Return the spec of a trial task (hwgen.search.trial): the base spec with its params."""
    base = load_spec(task["spec_path"])
    return trial_spec(base, task["params"], Path(task["float_checkpoint"]), task["qat_epochs"],
                      Path(task["folder"]), task.get("seed"))


def suggest(trial, space: Space) -> dict:
    """Return a trial's parameters (its widths), asked from the study in a fixed order."""
    return {k: trial.suggest_categorical(k, list(space.widths)) for k in SEARCHED}


#: The options a study's trials depend on: a rerun in the same folder must keep them.
KEYED = ("device", "budget", "max_ns_per_step", "batch", "seed", "qat_epochs", "widths",
         "clock_mhz")
#: The names of violations' values, as the study records them.
CONSTRAINTS = (*BUDGET_KEYS, "ns_per_step")
#: How trials choose their folding: a folder of a search that chose it otherwise is refused.
FOLDING_RULE = f"each trial's cheapest folding by the cost model, slack {FOLDING_SLACK}"


def check_resumable(folder: Path, keyed: dict) -> None:
    """Raise HwgenError if folder holds a search made with other KEYED options or another base
    spec; otherwise record keyed there (folder/study.json)."""
    path = folder / "study.json"
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except ValueError:
            raise HwgenError(f"{path}: not a search's study file (move it away to start "
                             f"afresh)") from None
        for key, value in keyed.items():
            if old.get(key) != value:
                raise HwgenError(f"{folder}: holds a search with another {key} ({old.get(key)!r}, "
                                 f"now {value!r}); give another --out or the same options")
        return
    from hwgen.locks import write_bytes_atomic

    write_bytes_atomic(path, (json.dumps(keyed, indent=1) + "\n").encode())


def _study(folder: Path, o: Options):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(str(folder / "study.journal")))
    sampler = optuna.samplers.NSGAIISampler(population_size=o.batch, seed=o.seed)
    return optuna.create_study(study_name="hwgen-search", storage=storage, sampler=sampler,
                               directions=["maximize", "minimize"], load_if_exists=True)


def _runner(o: Options):
    """Return runner(tasks, function): the results of function on each task, on o's executor."""
    from hwgen.sweep.run import run_tasks

    return lambda tasks, function: run_tasks(tasks, function, o.executor, o.jobs, o.address)


def _base_model(base, folder: Path) -> Path:
    """Train the base spec once in folder/base; return its checkpoint (the trials' float model)."""
    from hwgen.flow import step_train

    spec = dataclasses.replace(base, out=str(folder / "base"))
    say(f"search: training the base model {base.name} in {folder / 'base'}", sys.stderr)
    step_train(spec)
    return folder / "base" / "checkpoint.pt"


def _load_rows(folder: Path) -> dict:
    path = folder / "trials.json"
    if not path.is_file():
        return {}
    try:
        return {r["name"]: r for r in json.loads(path.read_text())["trials"]}
    except (ValueError, KeyError, TypeError):
        raise HwgenError(f"{path}: not a search trials file (move it away to start afresh)") \
            from None


def _save_rows(folder: Path, rows: dict, meta: dict) -> None:
    from hwgen.locks import write_bytes_atomic

    ordered = sorted(rows.values(), key=lambda r: r["number"])
    write_bytes_atomic(folder / "trials.json",
                  (json.dumps({"meta": meta, "trials": ordered}, indent=1) + "\n").encode())


def _generation(study, space: Space, count: int, rows: dict, task_of, o: Options, meta: dict,
                folder: Path) -> None:
    """Ask count trials, run those not already in rows, tell every result in trial order."""
    import optuna

    asked = [study.ask() for _ in range(count)]
    params = [suggest(t, space) for t in asked]
    names = [trial_name(p) for p in params]
    tasks = [task_of(t.number, p, n) for t, p, n in zip(asked, params, names)
             if not (n in rows and rows[n]["status"] == "done")]
    from hwgen.search.trial import run_trial

    unique = {t["name"]: t for t in tasks}  # twice the same parameters in one generation: once
    for row in _runner(o)(list(unique.values()), run_trial):
        rows[row["name"]] = row
        _save_rows(folder, rows, meta)
        say(f"trial {row['number']} {row['name']}: {summary(row)} ({row['seconds']:.0f} s)",
            sys.stderr)
    for trial, name in zip(asked, names):
        row = rows.get(name, {"status": "failed: not run"})
        if row["status"] != "done":
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        for key, value in zip(CONSTRAINTS, violations(row, o)):
            trial.set_constraint(key, value)  # <= 0: met (NSGA-II ranks feasible trials first)
        trial.set_user_attr("name", name)
        study.tell(trial, [row["accuracy"], row["cost"]])


def summary(row: dict) -> str:
    """Return one line about a trial's row."""
    if row["status"] != "done":
        return row["status"]
    f = row["folding"]
    return (f"accuracy {100 * row['accuracy']:.2f} %, cost {row['cost']:.3f} of the device at pe "
            f"{f['pe']}, simd {f['simd']}, lanes {f['lanes']}, {row['cycles_per_step']} "
            f"cycles/step")


def search(model: str, o: Options = Options(), out: str | None = None) -> dict:
    """Run (or resume) a search for model; write the search folder; return its results."""
    from hwgen.flow import BUILD_DIR, out_dir
    from hwgen.search.report import write_report
    from hwgen.search.screen import screen
    from hwgen.search.verify import verify_front

    base = load_spec(model)
    check_options(o)
    if o.qat_epochs is None:
        o = dataclasses.replace(o, qat_epochs=base.train.qat_epochs)
    baseline = load_baseline(o.baseline, o.device, base.name) if o.baseline else None
    space = make_space(base, o.widths)
    folder = Path(out or BUILD_DIR / "search" / f"{out_dir(base).name}-{o.device}").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"model": base.name, "spec": base.to_dict(), "options": dataclasses.asdict(o),
            "space": dataclasses.asdict(space)}
    say(f"search of {base.name} for ECP5 {o.device}: {o.trials} trials in generations of "
        f"{o.batch} ({o.executor}); {space.describe()}; in {folder}", sys.stderr)
    keyed = {k: v for k, v in json.loads(json.dumps(dataclasses.asdict(o))).items()
             if k in KEYED}
    keyed["base"] = base.training_hash()
    keyed["folding"] = FOLDING_RULE
    check_resumable(folder, keyed)
    ckpt = _base_model(base, folder)
    rows = _load_rows(folder)

    def task_of(number: int, params: dict, name: str) -> dict:
        return {"cwd": os.getcwd(), "spec_path": str(Path(base.path).resolve()),
                "params": params, "name": name, "number": number,
                "float_checkpoint": str(ckpt), "qat_epochs": o.qat_epochs,
                "folder": str(folder / "trials" / name), "device": o.device,
                "clock_mhz": o.clock_mhz, "budget": [list(kv) for kv in o.budget],
                "max_ns_per_step": o.max_ns_per_step, "foldings": space.foldings()}

    study = _study(folder, o)
    if not study.trials:  # a new study starts from the spec's widths (and the baseline's)
        for params in starting_points(base, space, baseline):
            study.enqueue_trial(params)
    finished = [t for t in study.trials if t.state.is_finished()]
    while len(finished) < o.trials:
        count = min(o.batch, o.trials - len(finished))
        _generation(study, space, count, rows, task_of, o, meta, folder)
        finished = [t for t in study.trials if t.state.is_finished()]
    screened = screen(base, folder, rows, ckpt, o, _runner(o))
    _save_rows(folder, rows, meta)
    verified = verify_front(base, folder, rows, ckpt, o, screened)
    if baseline:
        baseline = with_seeds(baseline, base, o.seeds, folder / "baseline")
    paths = write_report(folder, rows, verified, meta, o, baseline, screened)
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return {"folder": folder, "trials": rows, "verified": verified, "paths": paths}
