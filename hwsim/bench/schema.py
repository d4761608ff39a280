"""The benchmark result record: one JSON file per benchmark point, and its JSON Schema.

:data:`RESULT_SCHEMA` (JSON Schema draft 2020-12) is the contract between the sweep runner,
which writes ``<out>/<key>.json``, and the report (``hwsim report``), which reads them; it is
documented field by field in ``docs/bench.md``. :func:`validate_result` checks a record
against it with the ``jsonschema`` library (the ``bench`` extra).
"""

import functools
import json

from ..errors import HwsimError

__all__ = ["SCHEMA_VERSION", "RESULT_SCHEMA", "ResultSchemaError", "validate_result", "validator",
           "read_record"]

SCHEMA_VERSION = 1

_NUMBER = {"type": "number"}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_COUNT = {"type": "integer", "minimum": 0}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_TIME = {"type": "string", "format": "date-time"}
_TABLE = {"type": "object"}


def _object(properties, required=None, extra=False):
    """A JSON object schema with these properties, all required unless ``required`` says."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": extra}


_DEVICE = {
    "description": "a preset (with optional parameter changes), a devices family or an "
                   "aihwkit class with parameters, or for a qunn the qubits' noise rates",
    "anyOf": [
        {"type": "object", "required": ["preset"], "properties": {"preset": {"type": "string"}}},
        {"type": "object", "required": ["family"], "properties": {"family": {"type": "string"}}},
        {"type": "object", "required": ["class"], "properties": {"class": {"type": "string"}}},
        _object({"dephasing": _NUMBER, "damping": _NUMBER}, required=[]),
    ],
}

_POINT = _object({
    "name": {"type": "string", "minLength": 1},
    "task": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
    "network": {"type": "object", "required": ["kind"],
                "properties": {"kind": {"enum": ["mlp", "odernn", "qunn"]}}},
    "device": _DEVICE,
    "io": _TABLE, "update": _TABLE, "cost": _TABLE,
    "rule": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
    "train": _object({"epochs": {"type": "integer", "minimum": 1},
                      "batch_size": {"type": "integer", "minimum": 1}}),
    "target": {"enum": ["ideal", "device"]},
    "seed": {"type": "integer", "minimum": 0},
}, required=["name", "task", "network", "device", "io", "update", "rule", "train", "target",
             "seed"])

_ERROR = _object({"type": {"type": "string"}, "message": {"type": "string"},
                  "traceback": {"type": "string"}})

_METRICS = _object({
    "task_metric": _object({"name": {"enum": ["accuracy", "nrmse", "mse"]}, "value": _NUMBER,
                            "higher_is_better": {"type": "boolean"}}),
    "curve": {"type": "array", "items": _NUMBER, "minItems": 1},
    # null only where no hardware cost model applies (a qunn has no tiles)
    "energy_per_inference_J": _NUMBER_OR_NULL, "latency_per_inference_s": _NUMBER_OR_NULL,
    "energy_per_train_step_J": _NUMBER_OR_NULL, "latency_per_train_step_s": _NUMBER_OR_NULL,
    "area_mm2": _NUMBER_OR_NULL,
    "pulses": _COUNT, "dac_conversions": _COUNT, "adc_conversions": _COUNT,
    "weights": _object({"mean": _NUMBER, "std": _NUMBER, "min": _NUMBER, "max": _NUMBER,
                        "frac_at_bounds": _NUMBER_OR_NULL}),
    "wall_time_s": _NUMBER, "train_samples_per_s": _NUMBER,
})

_DEVICE_PARAMS = _object({
    "family": {"type": "string"}, "preset": {"type": ["string", "null"]},
    "dw_min": _NUMBER, "up_down": _NUMBER, "write_noise_std": _NUMBER, "dw_min_std": _NUMBER,
    "w_min": _NUMBER, "w_max": _NUMBER,
})

_ENVIRONMENT = _object({
    "hwsim": {"type": "string"}, "python": {"type": "string"}, "numpy": {"type": "string"},
    "numba": {"type": "string"}, "threads": {"type": "integer", "minimum": 1},
    "platform": {"type": "string"},
}, extra=True)

#: JSON Schema (draft 2020-12) of one result record.
RESULT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://hwsim.invalid/schemas/bench-result-1.json",
    "title": "hwsim benchmark result",
    "type": "object",
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "key": _SHA256,
        "pair_key": _SHA256,
        "suite": {"type": "string", "minLength": 1},
        "point": _POINT,
        "status": {"enum": ["ok", "error"]},
        "error": {"anyOf": [{"type": "null"}, _ERROR]},
        "metrics": {"anyOf": [{"type": "null"}, _METRICS]},
        "device_params": {"anyOf": [{"type": "null"}, _DEVICE_PARAMS]},
        "environment": _ENVIRONMENT,
        "started": _TIME,
        "finished": _TIME,
    },
    "required": ["schema_version", "key", "pair_key", "suite", "point", "status", "error",
                 "metrics", "device_params", "environment", "started", "finished"],
    "additionalProperties": False,
    # an ok record has metrics and no error; an error record the reverse
    "if": {"properties": {"status": {"const": "ok"}}},
    "then": {"properties": {"metrics": _METRICS, "error": {"type": "null"}}},
    "else": {"properties": {"metrics": {"type": "null"}, "error": _ERROR}},
}


class ResultSchemaError(HwsimError):
    """A benchmark result record does not match :data:`RESULT_SCHEMA`."""


@functools.lru_cache(maxsize=1)
def validator():
    """The ``jsonschema`` validator of :data:`RESULT_SCHEMA` (ImportError saying how to get
    jsonschema if it is missing)."""
    try:
        import jsonschema
    except ImportError:
        raise ImportError("validating benchmark results needs jsonschema, which is not "
                          "installed; install the extra with: pip install 'hwsim[bench]'") from None
    cls = jsonschema.Draft202012Validator
    cls.check_schema(RESULT_SCHEMA)
    return cls(RESULT_SCHEMA, format_checker=cls.FORMAT_CHECKER)


def validate_result(record):
    """Check ``record`` (a dict) against :data:`RESULT_SCHEMA`; return it unchanged.

    Raises
    ------
    ResultSchemaError
        Naming the first offending field (as a JSON path), its value and what the schema
        allows.
    ImportError
        If ``jsonschema`` is not installed.
    """
    from jsonschema.exceptions import best_match
    errors = list(validator().iter_errors(record))
    if errors:
        # best_match looks inside anyOf/if-then to the field that is actually wrong
        first = best_match(errors)
        where = "/".join(str(p) for p in first.absolute_path) or "(the record)"
        message = first.message  # starts with the value's repr, which may be long
        if len(message) > 300:
            message = f"{message[:150]} ... {message[-120:]}"
        raise ResultSchemaError(f"benchmark result: field {where}: {message}"
                                + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    return record


def _minimal_check(record):
    """Structural check used when jsonschema (the ``bench`` extra) is not installed."""
    missing = [k for k in RESULT_SCHEMA["required"] if k not in record]
    if missing:
        raise ResultSchemaError(f"benchmark result: missing fields {missing}")
    if record["status"] not in ("ok", "error"):
        raise ResultSchemaError(f"benchmark result: field status: {record['status']!r} is "
                                "not one of ['ok', 'error']")
    if record["status"] == "ok" and not isinstance(record["metrics"], dict):
        raise ResultSchemaError("benchmark result: field metrics: an ok record needs metrics")


def read_record(path):
    """The result record in the file ``path``, or ``(None, reason)`` when it is not one.

    The record is checked against :data:`RESULT_SCHEMA`; without ``jsonschema`` only its
    structure is checked (the report must still read results on a machine without the extra).

    Returns
    -------
    record : dict or None
    reason : str or None
        Why the file is not a record (unreadable, not JSON, not an object, or the schema
        error), None when it is one.
    """
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not readable JSON ({type(exc).__name__}: {exc})"
    if not isinstance(data, dict):
        return None, f"a JSON {type(data).__name__}, not a result record"
    try:
        try:
            validate_result(data)
        except ImportError:
            _minimal_check(data)
    except ResultSchemaError as exc:
        return None, str(exc)
    return data, None
