"""What every learning rule has: a name, validated parameters, and ``apply(sim)``."""

import dataclasses

from ..errors import ConfigError

RULES = {}


def register(name):
    """Class decorator: make a rule constructible by ``get_rule(name, ...)``."""
    def add(cls):
        RULES[name] = cls
        cls.rule_name = name
        return cls
    return add


class Rule:
    """Base class of the learning rules (frozen dataclasses).

    Attributes
    ----------
    rule_name : str
        The registry name (``"pulsed-sgd"``, ...).
    per_sample : bool
        True if the trainer must run forward, backward and update one sample at a time.
    needs_backward : bool
        True if the rule uses the errors of a backward pass (``sim.backward``).
    """

    rule_name = None
    per_sample = False
    needs_backward = True

    def prepare(self, graph):
        """The graph this rule runs on and its feedback map ``{forward tile: feedback tile}``.

        Rules that need extra tiles (dendritic weights) add them to a copy here; the
        default uses ``graph`` as it is, with no feedback tiles.
        """
        return graph, {}

    def initialize(self, sim):
        """Set up rule-owned state on a fresh simulator (default: nothing)."""

    def apply(self, sim, lr_scale=1.0):
        """Update every tile of ``sim`` from the local signals of its last pass."""
        raise NotImplementedError

    def to_dict(self):
        """``{"name": rule_name, <parameters>}``, JSON-able."""
        return {"name": self.rule_name, **dataclasses.asdict(self)}


def get_rule(name, **params):
    """Build the rule registered as ``name`` with ``params``.

    Raises ConfigError for an unknown name (listing the known ones) or parameter.
    """
    if isinstance(name, Rule):
        if params:
            raise ConfigError(f"get_rule: parameters {sorted(params)} given with a rule object")
        return name
    if name not in RULES:
        raise ConfigError(f"rule must be one of {sorted(RULES)}, got {name!r}")
    cls = RULES[name]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(f"rule {name!r}: unknown parameter(s) {unknown}; known: "
                          f"{sorted(known)}")
    return cls(**params)
