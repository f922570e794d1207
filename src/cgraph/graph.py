"""The computation graph as data, and its forward and reverse passes.

A `Graph` is a list of `Node`s in topological order (every node after its inputs). The
passes are plain loops over that list, never recursion, so depth costs nothing; `backward`
returns a fresh list of adjoints, so running it twice gives the same answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from . import ops
from .errors import BindingError, InputError, did_you_mean, listed, repeated
from .ops import ADD, CONST, MUL, VAR, Op

if TYPE_CHECKING:
    from .batch import BatchResult


# How a Graph or an Evaluation shows itself in Jupyter and VS Code: set by cgraph.notebook,
# which draws with modules that build on this one (so this one cannot import them).
display = None


class BareNode:
    """An op applied to earlier nodes, with no literal and no call label: what the parser
    makes of nearly every operator. It reads as a Node does (`value` and `call` are None)
    and is 64 bytes where a Node is 80, 16 bytes a node off a big program's peak."""

    __slots__ = ("id", "op", "inputs", "name")
    value = None
    call = None

    def __init__(self, id: int, op: Op, inputs: tuple[int, ...], name: str | None = None):
        self.id = id
        self.op = op
        self.inputs = inputs
        self.name = name  # the name an assignment gave this node

    def __repr__(self) -> str:
        label = f" {self.name}" if self.name else ""
        return f"<Node {self.id} {self.op.name}{label} {self.inputs}>"


class Node(BareNode):
    """One vertex: a variable, a constant, or an op applied to earlier nodes."""

    __slots__ = ("value", "call")

    def __init__(self, id: int, op: Op, inputs: tuple[int, ...] = (), name: str | None = None,
                 value: float | None = None, call: str | None = None):
        self.id = id
        self.op = op
        self.inputs = inputs
        self.name = name  # variable name, or the name an assignment gave this node
        self.value = value  # the literal, for constants
        self.call = call  # the call of a program's function that made it ("neuron#2")


class Graph:
    """A program's computation graph: `nodes` in topological order, and its output node."""

    def __init__(self, nodes: list[Node], output: int, output_name: str = "f",
                 source: str = "", statements: dict[str, int] | None = None):
        self.nodes = nodes
        self.output = output
        self.output_name = output_name
        self.source = source
        self.variables: dict[str, int] = {
            n.name: n.id for n in nodes if n.op is VAR}  # in order of first use
        # statement name -> node id, aliases (`q = p`) included (the parser knows them)
        self.statements: dict[str, int] = {
            n.name: n.id for n in nodes if n.name and n.inputs} if statements is None \
            else statements
        self._tape = None
        self._ran = False  # forward has run once (a second run compiles the tape)
        self._live = None
        self._gated = None

    def __getstate__(self) -> dict:
        """Pickled without what the passes cached (a compiled tape, liveness): the receiver
        rebuilds them on first use."""
        return {**self.__dict__, "_tape": None, "_ran": False, "_live": None, "_gated": None}

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"<Graph {len(self.nodes)} nodes, output {self.output_name}>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        """In a notebook: the picture (HTML) and the Mermaid diagram (Markdown)."""
        return display(self, None) if display else None

    def _repr_html_(self):
        return display(self, None)["text/html"] if display else None

    # -- inputs -------------------------------------------------------------------------

    def check_bindings(self, bindings: Mapping[str, float], *, unknown: bool = True,
                       missing: bool = True, lists: bool = False) -> None:
        """Raise BindingError for a binding of a name the program does not use (`unknown`)
        or a variable left unbound (`missing`); `lists`: the bindings may be lists (the
        command line), so a family nothing binds is hinted as one (W=[[…]] (4×2))."""
        if bindings.keys() == self.variables.keys():  # (the usual call: nothing is wrong)
            return
        if not unknown and bindings.keys() >= self.variables.keys() and \
                "[" not in "".join(self.variables):  # (every variable bound, no family)
            return
        if any("[" in k for k in bindings):
            self._check_families(bindings, missing)
        # a family bound as a whole (a list) may have elements the program does not use;
        # an element typed alone (w[5]=3, W[2,3]=1 for a w[1]; w[7]=1 beside w=[1,2]) is a
        # name like any other
        families = self._family_prefixes() if unknown and bindings else set()
        if families:
            families = {f for f, elements in _families(bindings).items()
                        if f + "[" in families and _a_list(bindings, f, elements)}
        by_list = getattr(bindings, "listed", None)  # (the library's dict: None)
        extra = [k for k in bindings if k not in self.variables
                 and ("[" not in k or k.partition("[")[0] not in families
                      or by_list is not None and k not in by_list)] \
            if unknown else []
        if extra:
            from .printing import reading_order  # (names as eval lists them: W[1,1], W[1,2], …)

            name = extra[0]
            hint = did_you_mean(name, self.variables)
            known = listed(reading_order(self.variables)) or "none"
            raise BindingError(f"'{name}' is not a variable of the program{hint} "
                               f"(its variables: {known})")
        if missing:
            missing = [v for v in self.variables if v not in bindings]
            if missing:  # as eval lists them: W[1,1], W[1,2], …, x[1], …
                from .printing import reading_order

                missing = [v for v in reading_order(self.variables) if v not in bindings]
                them = "them" if len(missing) > 1 else "it"
                hints = _binding_hints(missing, self.variables) if lists else \
                    [f"{v}=VALUE" for v in missing]
                some = " ".join(hints[:10])
                if len(hints) > 10:  # a big model: name a few, and say where all can go
                    some += " …, or all in a --bindings FILE"
                called = next((v for v in missing if v in ops.function_names()), None)
                if called:  # `sin + 1`: a function named without its brackets
                    some += f" ('{called}' alone is a variable; the function is {called}(…))"
                if "π" in missing:  # pasted from a formula, meaning the constant
                    some += " (π is a variable here; the constant is pi)"
                raise BindingError(f"no value for {listed(missing)}; bind {them} as {some}")

    def _family_prefixes(self) -> set[str]:
        return {v.partition("[")[0] + "[" for v in self.variables if "[" in v}

    def _check_families(self, bindings, missing: bool) -> None:
        """An indexed family bound with the wrong number of indices, or without an element
        the program uses: say so in terms of the family."""
        bound, used = _families(bindings), _families(self.variables)
        for family in bound.keys() & used.keys():
            b, u = bound[family][0], used[family][0]
            if b.count(",") != u.count(","):
                raise BindingError(f"'{family}' is bound with {b.count(',') + 1} index(es) "
                                   f"({b}) but the program uses {u.count(',') + 1} ({u})")
            if missing and _a_list(bindings, family, bound[family]):  # x=[…]: say so
                have = set(bound[family])
                lost = [n for n in used[family] if n not in have]
                if lost:
                    raise BindingError(f"{lost[0]} is out of range of the family bound: "
                                       f"{family} has {bound[family][0]} to "
                                       f"{bound[family][-1]}")

    def check_names(self, names, option: str = "--wrt") -> None:
        """Raise InputError for a name that is not one of the program's variables, or that
        is given twice (a Hessian with x twice came out wrong)."""
        for name in names or ():
            if name not in self.variables:
                elements = _families(self.variables).get(name) if "[" not in name else None
                if elements:  # --wrt W: a family is named by its elements
                    every = ", or leave --wrt out for every variable" * (option == "--wrt")
                    raise InputError(f"{option}: '{name}' is a family: name its elements "
                                     f"({listed(elements, 3)}){every}")
                raise InputError(f"{option}: '{name}' is not a variable of the program"
                                 f"{did_you_mean(name, self.variables)}")
        _given_once(names or (), option)

    def wrt_names(self, wrt=None) -> list[str]:
        """The variables to differentiate with respect to: `wrt` (checked), or every one;
        none at all is an error (diff, jacobian, hessian and check say it alike). Every one
        is listed as eval lists them, a family's elements together (reading_order)."""
        if wrt is None:
            from .printing import reading_order

            names = reading_order(self.variables)
        else:
            names = list(wrt)
        self.check_names(names)
        if not names:
            raise InputError("the program has no variables to differentiate with respect to")
        return names

    def named_nodes(self) -> dict[str, int]:
        """Every node a statement named (`p = x + y`), and the output, by name."""
        named = dict(self.statements)
        named[self.output_name] = self.output
        return named

    def output_nodes(self, names=None, option: str = "--output") -> list[tuple[str, int]]:
        """(name, node id) for each requested output (default: the program's output);
        InputError for a name no statement of the program assigns."""
        if not names:
            return [(self.output_name, self.output)]
        named = self.named_nodes()
        found = []
        for name in names:
            if name not in named:
                what = ("a variable, not a statement" if name in self.variables
                        else "not a named node of the program")
                raise InputError(f"{option}: '{name}' is {what}"
                                 f"{did_you_mean(name, named)} (named nodes: "
                                 f"{listed(named)})")
            found.append((name, named[name]))
        _given_once(names, option)
        return found

    # -- passes -------------------------------------------------------------------------

    def tape(self):
        """The op nodes as (id, scalar rule, input ids), compiled once per graph (kept as
        three lists, 24 bytes a node instead of a tuple's 72)."""
        if self._tape is None:
            steps = [n for n in self.nodes if n.op is not VAR and n.op is not CONST]
            self._tape = ([n.id for n in steps], [n.op.scalar for n in steps],
                          [n.inputs for n in steps])
        return zip(*self._tape)

    def forward(self, bindings: Mapping[str, float]) -> list[float]:
        """Every node's value, indexed by node id. Bindings of other names are ignored.

        The first pass reads the nodes themselves; only a graph run again (descend, checks,
        benchmarks) compiles its tape, whose 24 bytes a node would otherwise add to the
        peak of a one-shot evaluation."""
        self.check_bindings(bindings, unknown=False)
        values = [0.0] * len(self.nodes)
        if self._tape is None and not self._ran:
            self._ran = True
            for n in self.nodes:
                args = n.inputs
                k = len(args)
                if k == 2:
                    op = n.op  # (+ and *, the most frequent, inline: their scalar rules)
                    if op is ADD:
                        values[n.id] = values[args[0]] + values[args[1]]
                    elif op is MUL:
                        values[n.id] = values[args[0]] * values[args[1]]
                    else:
                        values[n.id] = op.scalar(values[args[0]], values[args[1]])
                elif k == 1:
                    values[n.id] = n.op.scalar(values[args[0]])
                elif n.op is VAR:
                    values[n.id] = float(bindings[n.name])
                elif n.op is CONST:
                    values[n.id] = n.value
                else:
                    values[n.id] = n.op.scalar(*[values[j] for j in args])
            return values
        for n in self.nodes:
            if n.op is VAR:
                values[n.id] = float(bindings[n.name])
            elif n.op is CONST:
                values[n.id] = n.value
        for i, fn, args in self.tape():
            n = len(args)
            if n == 2:
                values[i] = fn(values[args[0]], values[args[1]])
            elif n == 1:
                values[i] = fn(values[args[0]])
            else:
                values[i] = fn(*[values[j] for j in args])
        return values

    def backward(self, values: Sequence[float], output: int | None = None) -> list[float]:
        """Adjoints ∂output/∂node for every node, as a fresh list (reverse mode).

        Contributions are summed over all paths. Nodes that do not lead to the output are
        not part of its computation and pass nothing on (a NaN in a dead branch stays
        there); on the paths themselves IEEE arithmetic rules, as in PyTorch (0·inf = NaN).
        """
        out = self.output if output is None else output
        adjoint = [0.0] * len(self.nodes)
        adjoint[out] = 1.0
        m = ops.SCALAR
        nodes = self.nodes
        # Which nodes lead to the output: known from a pass before (reaches_output) when no
        # op gates its inputs, else found as this pass goes, from the output down (where
        # and comparisons: then it depends on the values). A first pass without gates on
        # its paths keeps what it found: a one-shot evaluation makes no pass just for it.
        find = not (self._live is not None and self._live[0] == out and not self.gated())
        if find:
            live = [False] * len(nodes)
            live[out] = True
            gates = False
        else:
            live = self._live[1]
        for i in range(out, -1, -1):
            if not live[i]:
                continue
            g = adjoint[i]
            n = nodes[i]
            args = n.inputs
            if not args:
                continue
            op = n.op
            if op is ADD or op is MUL:  # (the most frequent, inline: their partial rules)
                a, b = args
                if op is ADD:
                    adjoint[a] += g  # (g * 1.0 is g, bit for bit)
                    adjoint[b] += g
                else:
                    va = values[a]
                    adjoint[a] += g * values[b]
                    adjoint[b] += g * va
                if find:
                    live[a] = live[b] = True
                continue
            rules = op.partials
            k = len(args)
            if find and op.gate is not None:  # (when liveness is known, there is none)
                gates = True
                here = [values[j] for j in args]
                flags = op.gate(*here)
                here.append(values[i])
                for j, rule, flag in zip(args, rules, flags, strict=True):
                    if flag:
                        adjoint[j] += g * rule(m, *here)
                        live[j] = True
            elif k == 2:
                a, b = args
                va, vb, vo = values[a], values[b], values[i]
                adjoint[a] += g * rules[0](m, va, vb, vo)
                adjoint[b] += g * rules[1](m, va, vb, vo)
                if find:
                    live[a] = live[b] = True
            elif k == 1:
                a = args[0]
                adjoint[a] += g * rules[0](m, values[a], values[i])
                if find:
                    live[a] = True
            else:
                here = [values[j] for j in args]
                here.append(values[i])
                for j, rule in zip(args, rules, strict=True):
                    adjoint[j] += g * rule(m, *here)
                    if find:
                        live[j] = True
        if find and not gates:  # (then it is what reaches_output(out) computes)
            self._live = (out, live)
        return adjoint

    def gradient_flow(self, values: Sequence[float]):
        """(live, flags): whether each node gets a gradient at these values, and for each
        node the inputs it passes one to (None: all). Without where or comparisons this is
        `reaches_output()`; with them, a branch not taken gets nothing."""
        live = list(self.reaches_output())
        flags: list = [None] * len(self.nodes)
        if not self.gated():
            return live, flags
        live = [False] * len(self.nodes)
        live[self.output] = True
        for i in range(self.output, -1, -1):
            n = self.nodes[i]
            if not live[i]:
                continue
            if n.op.gate is not None:
                flags[i] = n.op.gate(*(values[j] for j in n.inputs))
            for k, j in enumerate(n.inputs):
                if flags[i] is None or flags[i][k]:
                    live[j] = True
        return live, flags

    def gated(self) -> bool:
        """Whether an op whose inputs get a gradient only sometimes (where, comparisons)
        is in the graph."""
        if self._gated is None:
            self._gated = any(n.op.gate is not None for n in self.nodes)
        return self._gated

    def evaluate(self, bindings: Mapping[str, float], outputs=None) -> "Evaluation":
        """Forward and reverse pass together; with several named `outputs`, one reverse
        pass for each (a single one is evaluated as the program's output)."""
        if outputs:
            targets = self.output_nodes(outputs)
            if len(targets) == 1:
                return self.with_output(*targets[0]).evaluate(bindings)
            values = self.forward(bindings)
            adjoints = [self.backward(values, i) for _, i in targets]
            graph = self.with_output(*targets[0])
            return Evaluation(graph, dict(bindings), values, adjoints[0], targets, adjoints)
        values = self.forward(bindings)
        return Evaluation(self, dict(bindings), values, self.backward(values))

    def with_output(self, name: str, node: int) -> "Graph":
        """The same nodes, with another node as the output."""
        if node == self.output:
            return self
        graph = Graph(self.nodes, node, name, self.source, self.statements)
        return graph

    def evaluate_batch(self, columns, wrt=None, **options) -> BatchResult:
        """Values and gradients at many points at once (numpy arrays); see cgraph.batch."""
        from .batch import evaluate_batch  # here: a single evaluation does without it

        return evaluate_batch(self, columns, wrt, **options)

    # -- structure ----------------------------------------------------------------------

    def users(self) -> list[list[int]]:
        """For each node, the ids of the nodes that take it as an input (in order)."""
        users: list[list[int]] = [[] for _ in self.nodes]
        for n in self.nodes:
            for j in n.inputs:
                users[j].append(n.id)
        return users

    def reaches_output(self, output: int | None = None) -> list[bool]:
        """Whether each node lies on a path to the output (computed once, then cached)."""
        out = self.output if output is None else output
        if self._live is not None and self._live[0] == out:
            return self._live[1]
        live = reachable(self.nodes, [out])
        self._live = (out, live)
        return live


def reachable(nodes: Sequence[Node], roots) -> list[bool]:
    """Whether each node (of a topologically ordered list) is a root or feeds one."""
    live = [False] * len(nodes)
    for r in roots:
        live[r] = True
    for n in reversed(nodes):
        if live[n.id]:
            for j in n.inputs:
                live[j] = True
    return live


class Evaluation:
    """The result of `Graph.evaluate`: values and adjoints of every node.

    (A plain class, not a dataclass: this module is imported at every start-up, where the
    `dataclass` decorator and the import of `dataclasses` cost about 1 ms. It compares and
    prints as the dataclass did.)"""

    graph: Graph
    bindings: dict[str, float]
    values: list[float]
    grads: list[float]
    # several outputs (`--output p,q`): (name, node id) and the adjoints of each; `grads`
    # are then the first one's
    outputs: list[tuple[str, int]] | None
    adjoints: list[list[float]] | None
    uncertainty: list | None  # per output, a cgraph.uncertainty.Uncertainty
    sigmas: list[float] | None  # σ of every node, when the inputs carry one

    _FIELDS = ("graph", "bindings", "values", "grads", "outputs", "adjoints", "uncertainty",
               "sigmas")

    def __init__(self, graph: Graph, bindings: dict[str, float], values: list[float],
                 grads: list[float], outputs: list[tuple[str, int]] | None = None,
                 adjoints: list[list[float]] | None = None, uncertainty: list | None = None,
                 sigmas: list[float] | None = None):
        self.graph, self.bindings, self.values, self.grads = graph, bindings, values, grads
        self.outputs, self.adjoints = outputs, adjoints
        self.uncertainty, self.sigmas = uncertainty, sigmas

    def _fields(self) -> tuple:
        return tuple(getattr(self, f) for f in self._FIELDS)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # mutable, compared by value

    def __repr__(self) -> str:
        """As the dataclass printed, each number spelled as the tables do (`1e-7`)."""
        from .numtext import python

        return "Evaluation(" + ", ".join(f"{f}={python(v)}" for f, v in zip(
            self._FIELDS, self._fields())) + ")"

    @property
    def value(self) -> float:
        return self.values[self.graph.output]

    def _repr_mimebundle_(self, include=None, exclude=None):
        """In a notebook: the backprop stepper (HTML) and the Mermaid diagram (Markdown)."""
        return display(self.graph, self) if display else None

    def _repr_html_(self):
        return display(self.graph, self)["text/html"] if display else None

    def gradient(self, wrt: Iterable[str] | None = None) -> dict[str, float]:
        """∂output/∂v for each variable v (all of them, in order of first use, or `wrt`)."""
        variables, grads = self.graph.variables, self.grads
        if wrt is None:
            return {v: grads[i] for v, i in variables.items()}
        return {v: grads[variables[v]] for v in wrt}

    def first_nonfinite(self) -> Node | None:
        """The first node whose value is non-finite although all its inputs are finite."""
        total = sum(self.values)  # finite when every value is (or it overflows: look)
        if total - total == 0.0:  # the usual case, in one C loop (10^4 nodes: 2.5 ms less)
            return None
        finite = [v - v == 0.0 for v in self.values]
        used = self._used_by_value() if self.graph.gated() else None
        for n in self.graph.nodes:
            if n.inputs and not finite[n.id] and all(finite[j] for j in n.inputs) and (
                    used is None or used[n.id]):
                return n
        return None

    def _used_by_value(self) -> list[bool]:
        """Nodes the output's value depends on at this point: a branch of where that is not
        taken is not one of them (its NaN is no warning); nodes of dead statements are."""
        g = self.graph
        used = [True] * len(g.nodes)
        live = g.reaches_output()
        taken = [not live[i] for i in range(len(g.nodes))]  # dead statements: as before
        taken[g.output] = True
        for i in range(g.output, -1, -1):
            n = g.nodes[i]
            if not taken[i]:
                used[i] = False
                continue
            for k, j in enumerate(n.inputs):
                if n.op is ops.WHERE and k and (k == 1) != (self.values[n.inputs[0]] != 0):
                    continue
                taken[j] = True
        return used


def _binding_hints(missing: list[str], variables) -> list[str]:
    """How to bind the missing variables: NAME=VALUE each, but a family none of whose
    elements is bound, and which a list can bind, as one list: `W=[[…]] (4×2)`."""
    families = _families(variables)
    lost = set(missing)
    hints, done = [], set()
    for v in missing:
        family = v.partition("[")[0]
        elements = families.get(family) if "[" in v else None
        if family in done:
            continue
        if elements and lost.issuperset(elements) and _a_whole_list(elements):
            done.add(family)
            tops = _tops(elements)
            hints.append(f"{family}={'[' * len(tops)}…{']' * len(tops)} "
                         f"({'×'.join(map(str, tops))})")
        else:
            hints.append(f"{v}=VALUE")
    return hints


def _tops(elements: list[str]) -> list[int]:
    """The largest index of each dimension of a family's elements."""
    indices = [tuple(map(int, e[e.index("[") + 1:-1].split(","))) for e in elements]
    return [max(i[d] for i in indices) for d in range(len(indices[0]))]


def _families(names) -> dict[str, list[str]]:
    """The elements among `names`, by family: {"w": ["w[1]", "w[2]"]}."""
    out: dict[str, list[str]] = {}
    for n in names:
        if "[" in n:
            out.setdefault(n.partition("[")[0], []).append(n)
    return out


def _a_list(bindings, family: str, elements: list[str]) -> bool:
    """Whether a list bound `family`: as the command line and --bindings say (their
    `Bindings.lists`), or for a plain dict (the library's), whether its elements are what
    a list binds."""
    lists = getattr(bindings, "lists", None)
    return family in lists if lists is not None else _a_whole_list(elements)


def _a_whole_list(elements: list[str]) -> bool:
    """Whether a family's elements are what a list binds (w=[…], W=[[…], …]): every index
    from 1 to its largest, in every dimension. Elements bound one by one (x[0]=1, x[5]=2)
    are not: a missing one is then just a missing value."""
    indices = {tuple(map(int, e[e.index("[") + 1:-1].split(","))) for e in elements}
    if len({len(i) for i in indices}) > 1:  # w[1] and w[2,3]: no list binds both
        return False
    whole = 1
    for top in _tops(elements):
        whole *= top
    return min(min(i) for i in indices) >= 1 and len(indices) == whole


def _given_once(names, option: str) -> None:
    """InputError for the first name an option's list gives twice (`--wrt x,y,x`)."""
    twice = repeated(names)
    if twice is not None:
        raise InputError(f"{option}: '{twice}' is given twice")
