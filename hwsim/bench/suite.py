"""Benchmark suites and sweeps: TOML files of points and grids, expanded and validated whole.

A suite file has four kinds of table (all optional but at least one point or grid)::

    [suite]
    name = "my-sweep"                 # default: the file's stem
    description = "..."

    [defaults]                        # fields every entry starts from
    seed = 0
    target = ["ideal", "device"]      # a list expands: one point per target
    [defaults.task]
    name = "teacher-student"
    n_in = 4

    [[point]]                         # one benchmark (per target, per seed)
    name = "mlp-ecram"
    device = { preset = "ecram" }

    [[grid]]                          # the cartesian product of its axes
    name = "presets"
    network = { kind = "mlp", hidden = [8] }       # fields, as in a point
    [grid.axes]                       # a field (dotted path) -> the list of its values
    "device.preset" = ["ecram", "reram-es"]
    rule = [{ name = "pulsed-sgd", lr = 0.05 }, { name = "feedback-alignment" }]

The fields of a point are those of a run configuration (``task``, ``network``, ``device``,
``io``, ``update``, ``rule``, ``train``, ``cost``; see :mod:`hwsim.experiments.run_config`)
plus ``name``, ``target`` and ``seed``. An entry's fields go on top of ``[defaults]``, which go
on top of the main job's configuration, with the run configuration's rules: ``task``,
``network`` and ``device`` are replaced whole, ``rule`` is replaced when it names another
rule, other tables merge key by key. Grid axes are applied in order: a plain field replaces
as above, a dotted path (``device.dw_min``, ``network.syre.gamma``) sets one key inside a
table. ``seed`` given as a list is an axis too.

The names of grid points are the entry's name and the axis values, e.g.
``presets[device.preset=ecram,rule=pulsed-sgd]``; a point's ``name`` is shared by its ideal and
device rows, and (name, target) is unique in the suite.

Every point is resolved (defaults of the task generator, the network, the rule and the
training filled in) and validated by building its task, network spec, device, periphery, rule
and cost table before anything runs; an error names the suite, the entry and the field.
"""

import copy
import dataclasses
import hashlib
import inspect
import itertools
import json
import tomllib
from pathlib import Path

from ..errors import ConfigError
from ..experiments.run_config import (DEFAULT_RUN, QUNN_DEFAULTS, QUNN_RULE, RunConfig,
                                      merge_tables)

__all__ = ["Suite", "load_suite", "suite_names", "suite_path", "expand_suite", "point_key",
           "pair_key", "canonical_json", "point_config", "resolve_point", "SUITES_DIR",
           "TARGETS"]

#: Where the shipped suites (``quick``, ``standard``, ``full``) live.
SUITES_DIR = Path(__file__).parent / "suites"

TARGETS = ("ideal", "device")

_TOP = ("suite", "defaults", "point", "grid")
_SUITE = ("name", "description")
_RUN_TABLES = ("task", "network", "device", "io", "update", "rule", "train", "cost")
_FIELDS = ("name", "seed", "target") + _RUN_TABLES
_ENTRY = {"point": _FIELDS, "grid": _FIELDS + ("axes",)}

#: What an entry starts from before ``[defaults]``: the main job, on both targets.
BASE_POINT = {**{k: v for k, v in DEFAULT_RUN.items() if k != "out"},
              "target": list(TARGETS)}


@dataclasses.dataclass(frozen=True)
class Suite:
    """A validated sweep.

    Attributes
    ----------
    name : str
        The suite's name (``[suite] name`` or the file stem); recorded in every result.
    description : str
    source : Path
        The TOML file it was read from.
    points : tuple of dict
        The fully resolved points: the ``[[point]]`` entries in order, then the ``[[grid]]``
        entries in order (grid points in axis order), targets innermost.
    """

    name: str
    description: str
    source: Path
    points: tuple

    def __len__(self):
        return len(self.points)


# --------------------------------------------------------------------------- keys

def canonical_json(obj):
    """The canonical JSON text of ``obj``: sorted keys, no spaces, ASCII."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def _sha256(obj):
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def point_key(point):
    """The content hash of a resolved point: the name of its result file."""
    return _sha256(point)


def pair_key(point):
    """The hash of ``point`` without its target: equal for a point's ideal and device rows."""
    return _sha256({k: v for k, v in point.items() if k != "target"})


# --------------------------------------------------------------------------- files

def suite_names():
    """Names of the shipped suites."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def suite_path(source):
    """The TOML file of ``source``: a path to a file, or the name of a shipped suite."""
    path = Path(source)
    if path.is_file():
        return path
    shipped = SUITES_DIR / f"{source}.toml"
    if isinstance(source, str) and "/" not in source and shipped.is_file():
        return shipped
    raise ConfigError(f"suite {str(source)!r} is neither a file nor a shipped suite; shipped "
                      f"suites: {', '.join(suite_names())}")


def load_suite(source):
    """Read, expand, resolve and validate a suite file (or a shipped suite by name).

    Raises
    ------
    ConfigError
        For a missing file, invalid TOML, an unknown table or field, a bad value, or two
        points with the same name and target; the message names the entry and the field.
    """
    path = suite_path(source)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"suite file {str(path)!r} is not valid TOML: {exc}") from None
    return expand_suite(data, path)


def expand_suite(data, path):
    """The :class:`Suite` of the parsed TOML ``data`` read from ``path``."""
    _unknown(f"suite {path.name}", "top level", data, _TOP)
    head = _table(data, "suite", f"suite {path.name}")
    _unknown(f"suite {path.name}", "[suite]", head, _SUITE)
    name = head.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"suite {path.name}: [suite] name must be a non-empty string, "
                          f"got {name!r}")
    where = f"suite {name!r}"
    defaults = _table(data, "defaults", where)
    _unknown(where, "[defaults]", defaults, _FIELDS)
    if "name" in defaults:
        raise ConfigError(f"{where}: [defaults] cannot set name (each entry names its points)")
    start = _apply(BASE_POINT, defaults, f"{where}: [defaults]")
    raw = []
    for kind in ("point", "grid"):
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            raise ConfigError(f"{where}: {kind} must be an array of tables ([[{kind}]]), got "
                              f"{entries!r}")
        for index, entry in enumerate(entries):
            raw.extend(_expand_entry(kind, index, entry, start, where))
    if not raw:
        raise ConfigError(f"{where}: no benchmarks; add [[point]] or [[grid]] entries")
    points = _resolve_all(raw, where)
    return Suite(name=name, description=str(head.get("description", "")), source=path,
                 points=tuple(points))


# --------------------------------------------------------------------------- expansion

def _unknown(where, table, given, known):
    extra = sorted(set(given) - set(known))
    if extra:
        raise ConfigError(f"{where}: {table}: unknown field(s) {', '.join(map(repr, extra))}; "
                          f"known: {', '.join(known)}")


def _table(data, key, where):
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{key}] must be a table, got {value!r}")
    return value


def _apply(point, fields, where):
    """``fields`` (a partial point) on top of ``point`` with the run configuration's rules."""
    try:
        return merge_tables(point, {k: copy.deepcopy(v) for k, v in fields.items()})
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _set_path(point, path, value, where):
    """Set the dotted ``path`` of ``point`` to ``value`` (a plain field merges as in a
    point; a dotted one sets one key inside its table)."""
    parts = path.split(".")
    if parts[0] not in _FIELDS or parts[0] == "name":
        raise ConfigError(f"{where}: axis {path!r}: unknown field {parts[0]!r}; known: "
                          f"{', '.join(f for f in _FIELDS if f != 'name')}")
    if len(parts) == 1:
        return _apply(point, {path: value}, f"{where}: axis {path!r}")
    if parts[0] not in _RUN_TABLES:
        raise ConfigError(f"{where}: axis {path!r}: {parts[0]!r} is not a table, so it has no "
                          f"field {'.'.join(parts[1:])!r}")
    point = copy.deepcopy(point)
    table = point
    for part in parts[:-1]:
        inner = table.setdefault(part, {})
        if not isinstance(inner, dict):
            raise ConfigError(f"{where}: axis {path!r}: {part!r} is {inner!r}, not a table")
        table = inner
    table[parts[-1]] = copy.deepcopy(value)
    return point


def _label(value, full):
    """A short text for an axis value in a point's name: a table by its name (``"name"``,
    ``"preset"``, ``"family"``, ``"class"``, ``"architecture"`` or ``"kind"``), with its other
    keys if ``full``."""
    if isinstance(value, dict):
        for key in ("name", "preset", "family", "class", "architecture", "kind"):
            if isinstance(value.get(key), str):
                rest = {k: v for k, v in value.items() if k != key}
                return value[key] + (canonical_json(rest) if rest and full else "")
        return canonical_json(value)
    if isinstance(value, (list, tuple)):
        return canonical_json(value)
    return str(value)


def _labels(values):
    """Labels of an axis's values: short where that keeps them apart, else full."""
    short = [_label(v, full=False) for v in values]
    return short if len(set(short)) == len(short) else [_label(v, full=True) for v in values]


def _expand_entry(kind, index, entry, start, suite_where):
    """``[(where, point)]`` of one entry: its grid (if any) and seed lists expanded."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{suite_where}: {kind}[{index}] must be a table, got {entry!r}")
    name = entry.get("name", f"{kind}{index}")
    where = f"{suite_where}: {kind}[{index}] {name!r}"
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name must be a non-empty string, got {name!r}")
    _unknown(where, "fields", entry, _ENTRY[kind])
    fields = {k: v for k, v in entry.items() if k not in ("name", "axes")}
    base = _apply(start, fields, where)
    axes = _axes(entry, kind, where)
    if isinstance(base.get("seed"), list):
        axes.append(("seed", _values(base["seed"], "seed", where)))
    out = []
    labelled = [[(value, label) for value, label in zip(values, _labels(values))]
                for _, values in axes]
    for combo in itertools.product(*labelled):
        point, labels = base, []
        for (path, _), (value, label) in zip(axes, combo):
            point = _set_path(point, path, value, where)
            labels.append(f"{path}={label}")
        point_name = name + (f"[{','.join(labels)}]" if labels else "")
        targets = point.get("target")
        for target in (targets if isinstance(targets, list) else [targets]):
            at = where if point_name == name else f"{where} point {point_name!r}"
            out.append((f"{at} ({target})",
                        {**point, "name": point_name, "target": target}))
    return out


def _axes(entry, kind, where):
    if kind != "grid":
        return []
    axes = entry.get("axes", {})
    if not isinstance(axes, dict) or not axes:
        raise ConfigError(f"{where}: a grid needs an [axes] table of field -> list of "
                          f"values, got {axes!r}")
    return [(path, _values(values, f"axes.{path}", where)) for path, values in axes.items()]


def _values(values, field, where):
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{where}: {field} must be a non-empty list of values, got "
                          f"{values!r}")
    return values


# --------------------------------------------------------------------------- resolution

def _resolve_all(raw, where):
    points, seen = [], {}
    for at, point in raw:
        resolved = resolve_point(point, at)
        ident = (resolved["name"], resolved["target"])
        if ident in seen:
            raise ConfigError(f"{where}: two points named {ident[0]!r} with target "
                              f"{ident[1]!r}: {seen[ident]} and {at}; give the entries "
                              "different names")
        seen[ident] = at
        points.append(resolved)
    return points


def resolve_point(point, where="point"):
    """Validate a point and fill in the defaults its builders would use.

    The task gets its generator's defaults (and the point's seed unless it sets one), the
    network its kind's defaults, the rule its parameters' defaults, the training its epochs
    and batch size (for a QUNN, the whole training set). Raises :class:`ConfigError` naming
    ``where`` and the field.
    """
    _unknown(where, "fields", point, _FIELDS)
    target = point.get("target")
    if target not in TARGETS:
        raise ConfigError(f"{where}: target must be one of {list(TARGETS)}, got {target!r}")
    seed = point.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{where}: seed must be an integer >= 0, got {seed!r}")
    try:
        config = point_config(point)
        task = config.make_task()
        resolved = {
            "name": point["name"], "task": _task(config), "network": _network(config),
            "device": config.device, "io": config.io, "update": config.update,
            "rule": _rule(config), "train": _train(config, task), "cost": config.cost,
            "target": target, "seed": seed,
        }
        canonical_json(resolved)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return json.loads(canonical_json(resolved))


def point_config(point):
    """The :class:`RunConfig` of a point's run tables and seed (validated)."""
    return RunConfig.from_dict({k: point[k] for k in _RUN_TABLES + ("seed",) if k in point})


def _task(config):
    from ..tasks import TASKS
    params = dict(config.task)
    key = params["name"].strip().lower().replace("_", "-")
    params.setdefault("seed", config.seed)
    for arg in inspect.signature(TASKS[key]).parameters.values():
        if arg.default is not inspect.Parameter.empty:
            params.setdefault(arg.name, arg.default)
    return params


def _network(config):
    kind = config.network.get("kind", "odernn")
    if kind == "qunn":
        return {**QUNN_DEFAULTS, **config.network}
    if kind == "mlp":
        return {"kind": "mlp", "hidden": [], "activation": "tanh",
                "output_activation": "identity", **config.network}
    return {"kind": "odernn", "tile_size": config.tile_size(), **config.network}


def _rule(config):
    if config.network.get("kind") == "qunn":
        return {"name": QUNN_RULE, "lr": config.make_qunn_lr()}
    return json.loads(json.dumps(config.make_rule().to_dict(), default=list))


def _train(config, task):
    if config.network.get("kind") == "qunn":
        return {"epochs": config.train.get("epochs", 10),
                "batch_size": int(task.x_train.shape[0])}
    return {"epochs": config.train.get("epochs", 10),
            "batch_size": config.train.get("batch_size", 16)}
