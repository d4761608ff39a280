"""The ``hwsim`` command line.

    hwsim run [CONFIG.toml] [--out DIR] [--resume] [--quiet]
    hwsim experiment NAME [--quick] [--target both|ideal|device] [--seed S] [--out DIR]
    hwsim experiment --list
    hwsim devices list
    hwsim devices show NAME [--plot out.png] [--cells N] [--pulses N] [--seed S]
    hwsim compile SPEC.toml -o graph.json [--dot graph.dot] [--tile-size N] [--strict]
    hwsim bench SUITE|FILE [--workers N] [--scheduler ADDRESS] [--out DIR] [--quiet]
    hwsim report DIR [--out FILE]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import devices
from hwsim.errors import DivergenceError
from devices.analysis import step_curves, symmetry_point


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except (ValueError, TypeError) as exc:
        print(f"hwsim: error: {exc}", file=sys.stderr)
        return 2
    except DivergenceError as exc:
        print(f"hwsim: {exc}", file=sys.stderr)
        return 1


def _parser():
    p = argparse.ArgumentParser(prog="hwsim", description="Hardware-oriented physical learning "
                                "emulator: device physics, on-device learning, compilation.")
    sub = p.add_subparsers(title="commands")

    run = sub.add_parser("run", help="the main job: train a network of tiles on a task on the "
                         "ideal and the device target and compare accuracy, cost and speed")
    run.add_argument("config", nargs="?", default=None,
                     help="run configuration (TOML); default: the built-in Mackey-Glass job")
    run.add_argument("--out", default=None, help="results folder (default: the config's out, "
                     "hwsim-out/run)")
    run.add_argument("--resume", action="store_true",
                     help="continue from the checkpoints in the results folder")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.set_defaults(func=_cmd_run)

    exp = sub.add_parser("experiment", help="run a named experiment: JSON, PNG, and a PASS/FAIL "
                         "line per expected signature (exit status 1 on a FAIL)")
    exp.add_argument("name", nargs="?", help="experiment name (see --list)")
    exp.add_argument("--list", action="store_true", help="list the experiments")
    exp.add_argument("--quick", action="store_true", help="the small version (seconds)")
    exp.add_argument("--target", default="both", choices=("both", "ideal", "device"))
    exp.add_argument("--seed", type=int, default=0)
    exp.add_argument("--out", default="hwsim-out/experiments", help="results folder")
    exp.add_argument("--quiet", action="store_true", help="no progress bars")
    exp.set_defaults(func=_cmd_experiment)

    dev = sub.add_parser("devices", help="device presets and families")
    dsub = dev.add_subparsers(title="devices commands")
    ls = dsub.add_parser("list", help="list the presets and families")
    ls.set_defaults(func=_cmd_list)
    show = dsub.add_parser("show", help="parameters, states, symmetry point and pulse response")
    show.add_argument("name", help="preset (e.g. reram-es) or family (e.g. SoftBoundsDevice)")
    show.add_argument("--plot", metavar="PNG", help="write the pulse-response plot here")
    show.add_argument("--cells", type=int, default=100, help="cells to average (default 100)")
    show.add_argument("--pulses", type=int, default=None,
                      help="up pulses, then as many down (default: about 1.2x the states)")
    show.add_argument("--seed", type=int, default=0)
    show.set_defaults(func=_cmd_show)
    dev.set_defaults(func=lambda a: (dev.print_help(), 2)[1])

    comp = sub.add_parser("compile", help="compile an ODERNN spec (TOML or JSON) to a device "
                          "graph (JSON, optionally DOT) and print the compile report")
    comp.add_argument("spec", help="the ODERNN spec, a .toml or .json file")
    comp.add_argument("-o", "--output", required=True, metavar="GRAPH.json",
                      help="where to write the device graph (JSON)")
    comp.add_argument("--dot", metavar="GRAPH.dot", help="also write Graphviz DOT here")
    comp.add_argument("--tile-size", type=int, default=256,
                      help="rows and columns of one crossbar (default 256)")
    comp.add_argument("--target", default="device", choices=("device", "ideal", "qunn"))
    comp.add_argument("--device", default=None, help="device preset of every tile")
    comp.add_argument("--strict", action="store_true",
                      help="refuse a recurrence the stability analysis finds unstable")
    comp.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    comp.add_argument("--report", metavar="REPORT.json", help="also write the report (JSON)")
    comp.set_defaults(func=_cmd_compile)

    bench = sub.add_parser("bench", help="run a benchmark suite or sweep: one JSON result per "
                           "point, resumable (exit status 1 if a point failed)")
    bench.add_argument("suite", help="a shipped suite (quick, standard, full) or a suite "
                       "TOML file")
    bench.add_argument("--workers", type=int, default=None,
                       help="local worker processes (default: the number of cores; 1 runs "
                       "in this process)")
    bench.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run on this existing Dask scheduler (tcp://host:port) instead; "
                       "needs the dask extra")
    bench.add_argument("--out", default=None, help="results folder (default "
                       "hwsim-out/bench/SUITE)")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.set_defaults(func=_cmd_bench)

    report = sub.add_parser("report", help="a Markdown report with tables and plots of a "
                            "folder of benchmark results")
    report.add_argument("results", metavar="DIR", help="folder of result JSON files")
    report.add_argument("--out", default=None, metavar="FILE",
                        help="where to write the report (default: in DIR)")
    report.set_defaults(func=_cmd_report)
    return p


def _resolve(name):
    """A preset or a family (with its defaults) by name."""
    for cls in devices.FAMILIES:
        if name.lower() in (cls.__name__.lower(), cls.aihwkit_name.lower()):
            return cls.__name__, cls(), "family defaults", ""
    p = devices.get_preset(name)
    return p.name, p.model, p.source, p.summary


def _cmd_list(args):
    rows = [("preset", "family", "dw_min", "range", "states", "source")]
    for p in devices.PRESETS.values():
        m = p.model
        rows.append((p.name, type(m).__name__, f"{m.dw_min:.3g}", f"[{m.w_min:g}, {m.w_max:g}]",
                     f"{m.num_states:.0f}", p.source))
    _table(rows)
    print("\nfamilies: " + ", ".join(f"{c.__name__} ({c.aihwkit_name})"
                                     for c in devices.FAMILIES))
    print("aihwkit names of the presets also work, e.g. 'hwsim devices show ReRamESPresetDevice'")


def _table(rows):
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _cmd_show(args):
    from devices.response import pulse_response

    name, model, source, summary = _resolve(args.name)
    print(f"{name}: {type(model).__name__} ({model.aihwkit_name})")
    if summary:
        print(f"  {summary}")
    print(f"  source: {source}")
    defaults = type(model)()
    print("parameters (* differs from the family default):")
    for key, value in model.to_dict().items():
        if key == "class":
            continue
        mark = "*" if getattr(defaults, key) != getattr(model, key) else " "
        print(f"  {mark} {key:26s} {value}")
    sp = symmetry_point(model)
    print(f"number of states      {model.num_states:.0f}  ((w_max - w_min) / dw_min)")
    print(f"update granularity    {model.granularity:.4g}")
    print("symmetry point        " + ("none (steps balance everywhere or nowhere)" if sp is None
                                      else f"{sp:+.4f}"))
    n = args.pulses or int(min(max(1.2 * model.num_states, 20), 20000))
    resp = pulse_response(model, n, n, cells=args.cells, seed=args.seed)
    mid = n
    print(f"pulse response over {args.cells} cells ({n} up, then {n} down, from the lower bound):")
    for k in sorted({0, n // 4, n // 2, mid, mid + n // 2, 2 * n}):
        print(f"  after {k:6d} pulses: mean {resp.mean[k]:+.4f}  std {resp.std[k]:.4f}")
    if args.plot:
        path = _plot_show(name, model, resp, args.plot)
        print(f"wrote {path}")


def _plot_show(name, model, resp, path):
    from hwsim.io_utils import pyplot, save_figure

    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    t = np.arange(resp.mean.size)
    a1.plot(t, resp.trajectories[:, : min(10, resp.trajectories.shape[1])], lw=0.5,
            alpha=0.5, color="tab:grey")
    a1.fill_between(t, resp.mean - resp.std, resp.mean + resp.std, alpha=0.3,
                    color="tab:blue", label="mean ± std over cells")
    a1.plot(t, resp.mean, color="tab:blue", lw=2)
    a1.axvline(int((resp.pulses > 0).sum()), color="k", ls=":", lw=1)
    a1.set_xlabel("pulse number (up, then down)")
    a1.set_ylabel("weight")
    a1.set_title(f"{name}: pulse response ({resp.trajectories.shape[1]} cells)")
    a1.legend(loc="lower center")
    w, up, down = step_curves(model)
    a2.plot(w, up / model.dw_min, label="up step")
    a2.plot(w, -down / model.dw_min, label="down step")
    sp = symmetry_point(model)
    if sp is not None:
        a2.axvline(sp, color="k", ls=":", lw=1, label=f"symmetry point {sp:+.3f}")
    a2.set_xlabel("weight")
    a2.set_ylabel("mean step size / dw_min")
    a2.set_title("step size of the mean device")
    a2.legend()
    save_figure(fig, path)
    plt.close(fig)
    return Path(path)


def _cmd_run(args):
    from hwsim.experiments import main_run

    main_run.run(args.config, out=args.out, resume=args.resume, progress=not args.quiet)


def _cmd_compile(args):
    import warnings

    import compiler

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", compiler.StabilityWarning)
        result = compiler.compile(args.spec, target=args.target, tile_size=args.tile_size,
                                  device=args.device, strict=args.strict, seed=args.seed)
    result.save(args.output, dot=args.dot)
    print(result.report)
    for w in caught:
        if issubclass(w.category, compiler.StabilityWarning):
            print(f"warning: {w.message}", file=sys.stderr)
    if args.report:
        Path(args.report).write_text(result.report.to_json())
    print(f"wrote {args.output}" + (f" and {args.dot}" if args.dot else "")
          + (f" and {args.report}" if args.report else ""))


def _cmd_experiment(args):
    from hwsim.experiments import base

    if args.list or not args.name:
        for name, module in base.discover().items():
            print(f"{name:<24} {getattr(module, 'DESCRIPTION', '')}")
        return 0 if args.list else 2
    module = base.get(args.name)
    result = module.run(quick=args.quick, target=args.target, seed=args.seed,
                        progress=not args.quiet)
    return base.finish(module, result, args.out)


def _cmd_bench(args):
    from hwsim.bench import load_suite, run_sweep

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.scheduler is not None and args.workers is not None:
        raise ValueError("give --workers or --scheduler, not both (a Dask cluster has its "
                         "own workers)")
    suite = load_suite(args.suite)
    try:
        summary = run_sweep(suite, out=args.out, workers=args.workers,
                            scheduler=args.scheduler, progress=not args.quiet)
    except ImportError as exc:  # an optional extra (jsonschema, dask) is missing
        print(f"hwsim: error: {exc}", file=sys.stderr)
        return 2
    print(summary.line())
    for name, target, error in summary.failures:
        print(f"  failed: {name} ({target}): {error}")
    return 1 if summary.failed else 0


def _cmd_report(args):
    try:
        from hwsim.bench.report import write_report
    except ModuleNotFoundError as exc:
        if exc.name != "hwsim.bench.report":
            raise
        print("hwsim: error: hwsim report is not available: this installation has no "
              "hwsim.bench.report", file=sys.stderr)
        return 2
    path = write_report(Path(args.results), out=None if args.out is None else Path(args.out))
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
