"""The IR: built from specs, printable, hoisting and zero-term dropping, consistency checks."""

import numpy as np
import pytest

import compiler
from compiler import ODERNN, build_ir
from compiler.errors import CompileError
from compiler.ir import (IR, Builder, Concat, Constant, MatVec, Pointwise, StateBuffer, Sum,
                         eliminate_dead)
from compiler.passes.fold import fold_bias

BASE = dict(hidden=6, inputs=3, outputs=2)


def matvecs(ir, name):
    return [op for op in ir.ops if isinstance(op, MatVec) and op.map == name]


@pytest.mark.parametrize("method, n", [("euler", 1), ("midpoint", 2), ("heun", 2),
                                       ("rk3", 3), ("rk4", 4)])
def test_stage_expansion(method, n):
    ir = build_ir(ODERNN(**BASE, method=method))
    # the recurrent map is read once per stage, the input map once per step (hoisted)
    assert len(matvecs(ir, "W")) == n
    assert len(matvecs(ir, "U")) == 1 and len(matvecs(ir, "c")) == 1
    assert len(ir.ops_of(Pointwise)) == n
    assert set(ir.maps) == {"W", "U", "c", "V", "d"}
    assert ir.maps["W"].shape == (6, 6) and ir.maps["U"].shape == (6, 3)
    assert ir.maps["c"].shape == (6, 1) and ir.maps["V"].shape == (2, 6)


def test_zero_coefficients_dropped():
    ir = build_ir(ODERNN(**BASE, method="midpoint"))
    final = [op for op in ir.ops_of(Sum) if op.y == "h[k+1]"][0]
    # midpoint: b = (0, 1): h[k+1] = h[k] + step K2, K1 only feeds stage 2
    assert final.inputs == ("h[k]", "K2.F") and final.coefficients == (1.0, 1.0)
    ir4 = build_ir(ODERNN(**BASE, method="rk4", step=0.5))
    s3 = [op for op in ir4.ops_of(Sum) if op.y == "s3"][0]
    assert s3.inputs == ("h[k]", "K2.F") and s3.coefficients == (1.0, 0.25)


def test_memory_buffers_and_coefficients():
    ir = build_ir(ODERNN(**BASE, order=3, memory="damped", method="heun"))
    buffers = ir.ops_of(StateBuffer)
    assert [(b.x, b.y) for b in buffers] == [("h[k+1]", "h[k]"), ("h[k]", "h[k-1]"),
                                             ("h[k-1]", "h[k-2]")]
    final = [op for op in ir.ops_of(Sum) if op.y == "h[k+1]"][0]
    assert final.inputs[:3] == ("h[k]", "h[k-1]", "h[k-2]")
    assert final.coefficients[:3] == pytest.approx((2.7, -2.43, 0.729))


def test_stage_memory_makes_hbar():
    ir = build_ir(ODERNN(**BASE, order=2, stage_memory=[0.5, 0.5]))
    hbar = [op for op in ir.ops_of(Sum) if op.y == "hbar"]
    assert hbar and hbar[0].inputs == ("h[k]", "h[k-1]")
    assert matvecs(ir, "W")[0].x == "hbar"


def test_exponential_ir():
    spec = ODERNN(**BASE, cell="unitary", method="exponential", step=0.5)
    ir = build_ir(spec)
    assert "Q" in ir.maps and "A" not in ir.maps
    from scipy.linalg import expm
    assert np.allclose(ir.maps["Q"].init, expm(0.5 * ir.weights["A"]))
    assert np.allclose(ir.weights["A"], -ir.weights["A"].T)
    final = [op for op in ir.ops_of(Sum) if op.y == "h[k+1]"][0]
    # (Q - I) h + h = Q h: the identity terms cancel
    assert set(final.inputs) == {"Qhbar", "forcing"}


def test_print_is_readable():
    text = str(build_ir(ODERNN(**BASE, method="rk4", step=0.5)))
    for line in ("IR odernn: 4-1-ODERNN vanilla, rk4", "h[k] = delay(h[k+1], init=0)",
                 "drive += U @ x", "K1.Wx += W @ h[k]", "K1.act = tanh(K1.pre)",
                 "s2 = h[k] + 0.25*K1.F",
                 "h[k+1] = h[k] + 0.0833333*K1.F + 0.166667*K2.F + 0.166667*K3.F + "
                 "0.0833333*K4.F", "y += V @ h[k+1]", "note: input drive"):
        assert line in text, line
    assert "IR(" in repr(build_ir(ODERNN(**BASE)))


def test_all_architectures_build_and_check():
    for name in compiler.ARCHITECTURES:
        ir = build_ir(compiler.architecture(name, **BASE))
        ir.check()
        d = ir.to_dict()
        assert d["ops"] and d["maps"]
        assert ir.inputs == ("x",) and ir.outputs == ("y",)


def test_given_weights_are_used_and_validated():
    spec = ODERNN(**BASE)
    W = np.eye(6) * 0.3
    ir = build_ir(spec, weights={"W": W})
    assert np.array_equal(ir.maps["W"].init, W) and "given" in ir.maps["W"].note
    with pytest.raises(CompileError, match="weights.W must have shape"):
        build_ir(spec, weights={"W": np.eye(5)})
    with pytest.raises(CompileError, match="unknown parameter.*Z"):
        build_ir(spec, weights={"Z": W})
    with pytest.raises(CompileError, match="must be finite"):
        build_ir(spec, weights={"W": W * np.nan})


def test_weights_deterministic_per_seed_and_name():
    spec = ODERNN(**BASE)
    a, b = build_ir(spec, seed=1), build_ir(spec, seed=1)
    assert all(np.array_equal(a.weights[k], b.weights[k]) for k in a.weights)
    c = build_ir(spec, seed=2)
    assert not np.array_equal(a.weights["W"], c.weights["W"])
    assert np.abs(a.weights["W"]).max() <= 1 / np.sqrt(6)
    assert np.abs(a.weights["U"]).max() <= 1 / np.sqrt(3)
    # adding the bias parameters does not change the other draws
    nb = build_ir(ODERNN(**BASE, bias=False), seed=1)
    assert np.array_equal(nb.weights["W"], a.weights["W"])
    z = build_ir(ODERNN(**BASE, init="zeros"))
    assert not np.any(z.weights["W"])


def test_check_catches_inconsistencies():
    ir = IR("bad")
    b = Builder(ir)
    b.value("x", 2, "input")
    ir.inputs = ("x",)
    b.value("y", 3)
    ir.ops.append(Pointwise("tanh", "z", "y"))
    with pytest.raises(CompileError, match="unknown value 'z'"):
        ir.check()
    ir.ops = [MatVec("M", "x", "y")]
    with pytest.raises(CompileError, match="unknown map 'M'"):
        ir.check()
    b.map("M", np.zeros((2, 2)), "input")
    with pytest.raises(CompileError, match="map M is 2 x 2"):
        ir.check()
    ir.ops = [Pointwise("tanh", "y", "y")]
    with pytest.raises(CompileError, match="reads 'y' before it is written"):
        ir.check()


def test_dead_ops_removed():
    ir = IR("dead")
    b = Builder(ir)
    b.value("x", 2, "input")
    ir.inputs, ir.outputs = ("x",), ("y",)
    b.value("y", 2, "output")
    unused = b.pointwise("tanh", "x", "unused")
    b.copy("x", "y")
    assert eliminate_dead(ir) == 1
    assert unused not in ir.values and len(ir.ops) == 1


def test_fold_bias():
    spec = ODERNN(**BASE, cell="gru")
    ir = build_ir(spec)
    folded = fold_bias(ir, tile_size=256)
    assert folded == ["U_z|c_z", "U_r|c_r", "U_g|c_g", "V|d"]
    ir.check()
    m = ir.maps["U_z|c_z"]
    assert m.shape == (6, 4) and m.parts == (("U_z", 0, 3), ("c_z", 3, 4))
    assert np.array_equal(m.init[:, :3], ir.weights["U_z"])
    concats = ir.ops_of(Concat)
    assert [(c.inputs, c.y) for c in concats] == [(("x", "one"), "x|1"),
                                                  (("h[k+1]", "one"), "h[k+1]|1")]
    assert ir.ops_of(Constant)
    # no room for a column: nothing folded
    ir2 = build_ir(spec)
    assert fold_bias(ir2, tile_size=3) == []
