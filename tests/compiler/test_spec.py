"""The ODERNN front end: defaults, validation naming the field, dict/TOML/JSON round trips."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import compiler
from compiler import ODERNN, CompileError, Syre
from compiler.methods import TABLEAUS

BASE = dict(hidden=8, inputs=2, outputs=1)


def test_defaults_and_derived():
    s = ODERNN(**BASE)
    assert s.stages == 2 and s.order == 1 and s.method is TABLEAUS["midpoint"]
    assert s.alpha == (1.0,) and s.stage_alpha == (1.0,)
    assert not s.exponential and s.tableau is s.method
    s = ODERNN(stages=4, order=3, method="rk4", memory="damped", **BASE)
    assert s.alpha == pytest.approx((2.7, -2.43, 0.729))
    assert s.stage_alpha == (1.0, 0.0, 0.0)
    u = ODERNN(cell="unitary", method="exponential", **BASE)
    assert u.exponential and u.stages == 1 and u.tableau is None
    assert "1-1-ODERNN unitary, exponential" in u.describe()


@pytest.mark.parametrize("changes, field", [
    (dict(hidden=0), "hidden"), (dict(inputs=1.5), "inputs"), (dict(outputs=True), "outputs"),
    (dict(order=0), "order"), (dict(stages=3, method="rk4"), "stages"),
    (dict(method="rk9"), "method"), (dict(method={"a": [[0]], "b": [0.5]}), "method"),
    (dict(method="exponential"), "method"), (dict(memory="adams"), "memory"),
    (dict(order=2, memory=[1.0]), "memory"), (dict(order=2, memory="damped",
                                                   stage_memory=[1.0]), "stage_memory"),
    (dict(stage_memory=[0.0]), "stage_memory"), (dict(step=0.0), "step"),
    (dict(step=float("nan")), "step"), (dict(activation="swish"), "activation"),
    (dict(cell="transformer"), "cell"), (dict(readout="softmax"), "readout"),
    (dict(readout="identity"), "readout"), (dict(bias="yes"), "bias"),
    (dict(init="orthogonal"), "init"), (dict(syre=3), "syre"),
    (dict(syre={"gamma": -1.0}), "syre"), (dict(name=""), "name"),
    (dict(memory={"name": "damped", "damping": 2.0}), "memory"),
])
def test_invalid_field_is_named(changes, field):
    with pytest.raises(CompileError, match=rf"ODERNN\.{field}\b"):
        ODERNN(**{**BASE, **changes})


def test_error_names_value_and_allowed():
    with pytest.raises(CompileError) as info:
        ODERNN(**BASE, cell="transformer")
    msg = str(info.value)
    assert "'transformer'" in msg and "'vanilla'" in msg and "'unitary'" in msg
    with pytest.raises(CompileError, match="stages must equal the number of stages of method "
                                           "'rk4', 4; got 2"):
        ODERNN(**BASE, stages=2, method="rk4")


def test_unknown_and_missing_keys():
    with pytest.raises(CompileError, match="unknown key.*'hiden'"):
        ODERNN.from_dict({**BASE, "hiden": 3})
    with pytest.raises(CompileError, match="missing required field.*outputs"):
        ODERNN.from_dict({"hidden": 3, "inputs": 1})


def _specs():
    custom = {"name": "ralston", "a": [[0, 0], [2 / 3, 0]], "b": [0.25, 0.75]}
    return [
        ODERNN(**BASE),
        ODERNN(**BASE, stages=4, method="rk4", step=0.25, activation="relu", readout="tanh"),
        ODERNN(**BASE, order=2, memory={"name": "damped", "damping": 0.8}, cell="lstm",
               stage_memory=[0.5, 0.5]),
        ODERNN(**BASE, order=2, memory=[1.5, -0.5], cell="gru", method=custom, bias=False),
        ODERNN(**BASE, cell="unitary", method="exponential", init="normal",
               syre=Syre(sigma0=0.01, gamma=1e-3, anisotropy=0.1)),
        ODERNN(hidden=3, inputs=1, outputs=3, readout="identity", syre={"gamma": 0.01},
               name="x"),
    ]


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.describe())
def test_round_trips(spec, tmp_path):
    assert ODERNN.from_dict(spec.to_dict()) == spec
    assert ODERNN.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert ODERNN.from_json(spec.to_json()) == spec
    assert ODERNN.from_toml(spec.to_toml()) == spec
    path = tmp_path / "spec.toml"
    path.write_text(spec.to_toml())
    assert ODERNN.from_toml(path) == spec
    assert ODERNN.from_toml(str(path)) == spec
    jpath = tmp_path / "spec.json"
    jpath.write_text(spec.to_json())
    assert ODERNN.from_json(jpath) == spec


def test_toml_with_table_and_named_method():
    text = """
[odernn]
hidden = 4
inputs = 1
outputs = 1
method = "rk3"
cell = "residual"
[odernn.memory]
name = "damped"
damping = 0.5
"""
    spec = ODERNN.from_toml(text)
    assert spec.stages == 3 and spec.alpha == (0.5,) and spec.cell == "residual"
    assert spec.to_dict()["method"] == "rk3"
    with pytest.raises(CompileError, match="invalid TOML"):
        ODERNN.from_toml("hidden = = 3\n")


def test_replace_follows_method():
    s = ODERNN(**BASE).replace(method="rk4")
    assert s.stages == 4
    with pytest.raises(CompileError, match="ODERNN.stages"):
        ODERNN(**BASE).replace(method="rk4", stages=2)


def test_architectures():
    expected = {"vanilla": (1, 1), "residual": (1, 1), "gru": (2, 1), "lstm": (2, 2),
                "unitary": (1, 1)}
    for name, nt in expected.items():
        spec = compiler.architecture(name, hidden=4, inputs=1, outputs=1)
        assert (spec.stages, spec.order) == nt and spec.name == name
    assert compiler.architecture("unitary", hidden=4, inputs=1, outputs=1).exponential
    assert compiler.architectures.gru(hidden=4, inputs=1, outputs=1, step=0.5).step == 0.5
    assert compiler.architecture("vanilla", hidden=4, inputs=1, outputs=1,
                                 method="rk4").stages == 4
    with pytest.raises(CompileError, match="architecture must be one of"):
        compiler.architecture("transformer", hidden=4, inputs=1, outputs=1)


# ------------------------------------------------------------------ hypothesis
FIELDS_BAD = st.sampled_from([
    ("hidden", st.one_of(st.integers(max_value=0), st.floats(allow_nan=True), st.text())),
    ("inputs", st.integers(max_value=0)),
    ("order", st.integers(min_value=-5, max_value=0)),
    ("step", st.one_of(st.floats(max_value=0.0), st.just(float("inf")))),
    ("method", st.text(alphabet="xyz", min_size=1)),
    ("cell", st.text(alphabet="qwe", min_size=1)),
    ("activation", st.text(alphabet="qwe", min_size=1)),
    ("readout", st.sampled_from(["softmax", "", "relu"])),
    ("init", st.sampled_from(["he", "xavier"])),
    ("bias", st.sampled_from([0, 1, "true", None])),
])


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_hypothesis_invalid_specs_name_the_field(data):
    field, strategy = data.draw(FIELDS_BAD)
    value = data.draw(strategy)
    with pytest.raises(CompileError, match=rf"ODERNN\.{field}\b"):
        ODERNN(**{**BASE, field: value})
