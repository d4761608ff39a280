"""Benchmark suites: TOML expansion, resolution, validation errors, keys, the result schema."""

import copy

import pytest

import devices
from hwsim.bench import RESULT_SCHEMA, ResultSchemaError, load_suite, validate_result
from hwsim.bench.point import run_point
from hwsim.bench.suite import pair_key, point_config, point_key, resolve_point, suite_names
from hwsim.errors import ConfigError

HEAD = """
[defaults]
task = { name = "teacher-student", n_in = 3, n_out = 1, n_train = 16, n_test = 8 }
network = { kind = "mlp", hidden = [4] }
device = { preset = "ecram" }
train = { epochs = 1, batch_size = 8 }
"""


def _suite(tmp_path, body, head=HEAD, name="s.toml"):
    path = tmp_path / name
    path.write_text(head + body)
    return load_suite(path)


def test_points_expand_over_targets_and_seed_lists(tmp_path):
    suite = _suite(tmp_path, """
[[point]]
name = "a"
seed = [0, 3]
""")
    assert suite.name == "s"
    got = [(p["name"], p["target"], p["seed"]) for p in suite.points]
    assert got == [("a[seed=0]", "ideal", 0), ("a[seed=0]", "device", 0),
                   ("a[seed=3]", "ideal", 3), ("a[seed=3]", "device", 3)]
    # the task's seed follows the point's unless the task sets its own
    assert [p["task"]["seed"] for p in suite.points] == [0, 0, 3, 3]


def test_grid_is_the_product_of_its_axes_in_order(tmp_path):
    suite = _suite(tmp_path, """
[[grid]]
name = "g"
target = "device"
[grid.axes]
"device.preset" = ["ecram", "pcm"]
rule = [{ name = "pulsed-sgd", lr = 0.1 }, { name = "hebbian" }, { name = "pulsed-sgd", lr = 0.2 }]
""")
    names = [p["name"] for p in suite.points]
    assert len(names) == 6 and len(set(names)) == 6
    assert names[0] == 'g[device.preset=ecram,rule=pulsed-sgd{"lr":0.1}]'
    assert [p["device"] for p in suite.points[:3]] == [{"preset": "ecram"}] * 3
    assert [p["rule"]["name"] for p in suite.points[:3]] == ["pulsed-sgd", "hebbian",
                                                             "pulsed-sgd"]
    # resolved: the rule's parameters are filled in with their defaults
    assert suite.points[0]["rule"] == {"name": "pulsed-sgd", "lr": 0.1, "weight_decay": 0.0,
                                       "per_sample": False}


def test_merging_follows_the_run_config_rules(tmp_path):
    suite = _suite(tmp_path, """
[[point]]
name = "p"
target = "device"
device = { family = "SoftBounds", dw_min = 0.01 }
io = { adc_bits = 6 }
train = { epochs = 2 }
[[grid]]
name = "g"
target = "device"
[grid.axes]
"network.hidden" = [[2], [3]]
"device.dw_min_std" = [0.0]
""")
    p, g2, g3 = suite.points
    assert p["device"] == {"family": "SoftBounds", "dw_min": 0.01}   # replaced whole
    assert p["io"] == {"dac_bits": 8, "adc_bits": 6}                  # merged key by key
    assert p["train"] == {"epochs": 2, "batch_size": 8}
    assert g2["network"]["hidden"] == [2] and g3["network"]["hidden"] == [3]
    assert g2["device"] == {"preset": "ecram", "dw_min_std": 0.0}    # a dotted path sets a key
    assert type(point_config(g2).make_device()).__name__ == "LinearStep"


def test_resolution_is_idempotent_and_keys_pair_the_targets(tmp_path):
    suite = _suite(tmp_path, '[[point]]\nname = "a"\n')
    ideal, device = suite.points
    for p in suite.points:
        assert resolve_point(copy.deepcopy(p)) == p
    assert point_key(ideal) != point_key(device)
    assert pair_key(ideal) == pair_key(device)
    changed = dict(ideal, seed=1)
    assert pair_key(changed) != pair_key(ideal)


@pytest.mark.parametrize("body, words", [
    ('[[point]]\nname = "a"\ndevice = { preset = "unobtainium" }\n',
     ["point[0] 'a'", "[device]", "unobtainium"]),
    ('[[point]]\nname = "a"\n[[point]]\nname = "b"\ntrain = { epochz = 2 }\n',
     ["point[1] 'b'", "[train]", "epochz"]),
    ('[[point]]\nname = "a"\ncolour = 3\n', ["point[0] 'a'", "colour"]),
    ('[[grid]]\nname = "g"\n[grid.axes]\n"device.dw_min" = [0.01, -1.0]\n',
     ["grid[0] 'g'", "device.dw_min=-1.0", "dw_min", "-1.0"]),
    ('[[grid]]\nname = "g"\n[grid.axes]\n"colour.x" = [1]\n', ["grid[0] 'g'", "colour"]),
    ('[[grid]]\nname = "g"\n[grid.axes]\nseed = []\n', ["grid[0] 'g'", "axes.seed"]),
    ('[[grid]]\nname = "g"\n', ["grid[0] 'g'", "axes"]),
    ('[[point]]\nname = "a"\ntarget = "fpga"\n', ["point[0] 'a'", "target", "fpga"]),
    ('[[point]]\nname = "a"\nseed = -2\n', ["point[0] 'a'", "seed", "-2"]),
    ('[[point]]\nname = "a"\nrule = { name = "magic" }\n', ["point[0] 'a'", "rule", "magic"]),
    ('[[point]]\nname = "a"\n[[point]]\nname = "a"\n',
     ["two points named 'a'", "point[0]", "point[1]"]),
    ('[[point]]\nname = "q"\nnetwork = { kind = "qunn" }\nrule = { name = "adam" }\n'
     'task = { name = "sine", n_train = 8, n_test = 2, window = 5 }\n',
     ["point[0] 'q'", "[device]", "preset"]),
    ('[[point]]\nname = "q"\nnetwork = { kind = "qunn" }\nrule = { name = "adam" }\n'
     'device = {}\n', ["point[0] 'q'", "[network]", "1 feature", "gives 3"]),
    ('[[point]]\nname = "q"\nnetwork = { kind = "qunn" }\ndevice = {}\n'
     'rule = { name = "adam" }\ntask = { name = "sine", n_train = 4, n_test = 2, window = 5 }\n',
     ["point[0] 'q'", "batch_size", "8"]),
    ('[surte]\nname = "x"\n', ["surte"]),
    ('', ["no benchmarks"]),
])
def test_validation_errors_name_the_entry_and_the_field(tmp_path, body, words):
    with pytest.raises(ConfigError) as info:
        _suite(tmp_path, body)
    for word in words:
        assert word in str(info.value)


def test_missing_suite_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="shipped suites: .*quick"):
        load_suite("no-such-suite")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[point]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_suite(bad)


def test_shipped_suites_cover_every_device_rule_and_network_kind():
    assert {"quick", "standard", "full"} <= set(suite_names())
    families = {cls.__name__ for cls in devices.FAMILIES}
    for name in ("quick", "standard", "full"):
        suite = load_suite(name)
        assert suite.name == name
        tiles = [p for p in suite.points if p["network"]["kind"] != "qunn"]
        assert {p["device"].get("preset") for p in tiles} >= set(devices.PRESETS), name
        assert {p["device"].get("family") for p in tiles} >= families, name
        assert {p["rule"]["name"] for p in suite.points} >= {
            "pulsed-sgd", "heterosynaptic", "feedback-alignment", "hebbian", "adam"}, name
        assert {p["network"]["kind"] for p in suite.points} == {"mlp", "odernn", "qunn"}, name
        # the ideal target is the reference of every row
        pairs = {}
        for p in suite.points:
            pairs.setdefault(pair_key(p), set()).add(p["target"])
        assert all(t == {"ideal", "device"} for t in pairs.values()), name


def test_a_record_validates_and_a_broken_one_names_the_field(tmp_path):
    suite = _suite(tmp_path, '[[point]]\nname = "a"\ntarget = "device"\n')
    record = validate_result(run_point(suite.points[0], suite.name))
    assert record["status"] == "ok" and record["metrics"]["pulses"] > 0
    assert record["device_params"]["family"] == "LinearStep"
    assert RESULT_SCHEMA["$schema"].endswith("2020-12/schema")
    broken = copy.deepcopy(record)
    broken["metrics"]["pulses"] = -1
    with pytest.raises(ResultSchemaError, match="metrics/pulses"):
        validate_result(broken)
    broken = copy.deepcopy(record)
    broken["status"] = "error"            # an error record has no metrics
    with pytest.raises(ResultSchemaError, match="field metrics: .* is not of type 'null'"):
        validate_result(broken)
    broken = dict(record, key="xyz")
    with pytest.raises(ResultSchemaError, match="key"):
        validate_result(broken)
