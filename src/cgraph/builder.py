"""The graph builder: one method per grammar alias, called by the parser at each reduction.

Plain expressions become nodes at once, in topological order. The language's shorthands
expand at parse time into ordinary scalar nodes, so the graph stays flat:

* indexed names `w[1]`, `W[2,3]` are variables (or assigned nodes) named `w[1]`, `W[2,3]`;
* a comprehension `sum(body for i in 1..n)` (also `prod`, `max`, `min`) and an indexed
  assignment `h[j] = body for j in 1..4` are built first as ordinary nodes, in which the
  index variable is a placeholder; when the construct closes, those nodes are cut off the
  end of the node list as a *template* and copied once per index value;
* a definition `sq(a) = a * a` keeps its body as a template; each call `sq(x + 1)` copies
  it with the parameter bound to the argument, and the copies carry the call's name
  (`sq#2`) so tables, JSON and explain can say where a node came from.

Copying a template is one loop over its nodes (no recursion, whatever the nesting).
Integer arithmetic (+, -, *) on literals and index values is done while copying, so
`w[2*i-1]` names one element.

A range's bounds may use the indices of the `for` clauses before it (`for i in 1..n for j
in i+1..n`), which the expansion knows as it goes. When they use a name known only later
(the index of an enclosing comprehension, `sum(sum(b[j] for j in 1..i) for i in 1..3)`, or
a function's parameter), the comprehension stays a template behind one PENDING node, and is
expanded where the enclosing construct is copied: copying recurses only that deep (at most
NESTING comprehensions).
"""

from __future__ import annotations

from . import ops
from .errors import (NameResolutionError, NumberError, UnknownFunction, did_you_mean,
                     line_column, product_hint)
from .graph import BareNode, Node
from .ops import CONST, VAR, Op

LIMIT = 1_000_000  # nodes all expansions of one program may make
NESTING = 50  # comprehensions waiting for an enclosing index, one inside another
REDUCTIONS = {"sum": ops.ADD, "prod": ops.MUL, "max": ops.MAX, "min": ops.MIN}
COMPARISONS = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
# A placeholder for w[i] while i is not known yet: name "w", inputs the index expressions,
# value the position of the subscript in the source. Never left in a finished graph.
INDEX = Op("index", -1, None, None, (), "index")
# A comprehension whose ranges wait for a name: value its Pending, inputs what the names it
# uses stand for (see Pending). Never left in a finished graph either.
PENDING = Op("pending", -1, None, None, (), "pending")
_FOLD = {ops.ADD: lambda a, b: a + b, ops.SUB: lambda a, b: a - b, ops.MUL: lambda a, b: a * b}


class Lit:
    """A number known while copying a template: a literal, an index value, or integer
    arithmetic on them. It becomes a constant node only where a node needs it."""

    __slots__ = ("value",)

    def __init__(self, value: float):
        self.value = value


class Pending:
    """A comprehension kept as its template until the names its ranges use are known. Its
    PENDING node's inputs are, in the copy that meets it, what the variables inside the
    template stand for (`names`) and then the nodes before the template that it uses
    (`outside`, by their ids when it was cut)."""

    __slots__ = ("match", "template", "body", "clauses", "uses", "names", "outside")

    def __init__(self, match, template, body, clauses, uses, names, outside):
        self.match, self.template, self.body, self.clauses = match, template, body, clauses
        self.uses, self.names, self.outside = uses, names, outside


class Function:
    __slots__ = ("name", "params", "template", "root", "calls")

    def __init__(self, name, params, template, root):
        self.name, self.params, self.template, self.root = name, params, template, root
        self.calls = 0


class Target:
    """`h[j]` on the left of `=`: its family name, index expressions and where they start."""

    __slots__ = ("match", "indices", "mark")

    def __init__(self, match, indices, mark):
        self.match, self.indices, self.mark = match, indices, mark


def element_name(family: str, index) -> str:
    return f"{family}[{','.join(str(i) for i in index)}]"


class GraphBuilder:
    """One method per grammar alias; each gets the rule's kept children. Per-parse state.

    Infix operators need no method: BINARY names the op each alias makes.
    """

    BINARY = {"add": ops.ADD, "sub": ops.SUB, "mul": ops.MUL, "div": ops.DIV, "pow": ops.POW}
    LOOKUP = "name"  # a name already in `scope` is that node: the parser looks it up itself
    # The symbols whose callbacks return None: a statement (its nodes are in `nodes`, its
    # name in `scope`) and a definition's head; the parser keeps no value for them.
    VALUELESS = ("statement", "head")

    def __init__(self, source: str):
        self.source = source
        self.tokens = None  # the parser's Tokens: a token's value is its index there
        self.nodes: list[Node] = []
        self.scope: dict[str, int] = {}  # every name in the program -> its node id
        self.journal: list = []  # (name, previous id or None) per scope entry `name` made
        self.assigned: set[str] = set()
        self.output: tuple[str, int] | None = None
        self.marks: list = []  # per open call or subscript: (len(nodes), len(journal))
        self.open = 0  # definitions and indexed assignments whose body is being read
        self.functions: dict[str, Function] = {}
        self.defining: list = []  # [name, params, body mark] while a body is read
        self.families: dict[str, str] = {}  # family name -> "variable" or "assigned"
        self.index_names: dict[str, int] = {}  # index variable -> where it is bound
        self.first_use: dict[str, int] = {}  # variable -> where it is first used (`_at`)
        self.expanded = 0
        self.label = None  # the call being expanded (its nodes carry it)
        self.placeholders = 0  # INDEX nodes made (finish() checks none is left)
        self.serial = 0  # calls are labelled f#?<serial> until their statement ends
        self.numbered = 0
        self.statement_start = 0  # the first node of the statement being read
        self.empty = None  # the last empty range met: (index, start, end)
        self.depth = 0  # pending comprehensions being expanded, one inside another

    # -- helpers ---------------------------------------------------------------------------

    def _add(self, op, inputs=(), name=None, value=None) -> int:
        i = len(self.nodes)
        call = self.label if op is not VAR else None  # variables come from no call
        self.nodes.append(BareNode(i, op, inputs, name) if value is None and call is None
                          else Node(i, op, inputs, name, value, call))
        return i

    def error(self, where, message: str) -> NameResolutionError:
        pos = where if isinstance(where, int) else where.start()
        return NameResolutionError(message, self.source, *line_column(self.source, pos))

    def _mark(self):
        return (len(self.nodes), len(self.journal))

    def _cut(self, mark) -> list[Node]:
        """Take the nodes made since `mark` off the graph (a template) and forget the names
        they brought into scope."""
        at, journal_at = mark
        template = self.nodes[at:]
        del self.nodes[at:]
        for name, previous in reversed(self.journal[journal_at:]):
            if previous is None:
                del self.scope[name]
            else:
                self.scope[name] = previous
        del self.journal[journal_at:]
        return template

    def _bind(self, name: str, node: int) -> None:
        if self.marks or self.open:  # only a region's names are ever undone
            self.journal.append((name, self.scope.get(name)))
        self.scope[name] = node

    def _lookup(self, name: str, pos: int) -> int:
        """The node `name` stands for, a new variable (or constant) if none; `pos`: where
        the name is used (see `_at`)."""
        found = self.scope.get(name)
        if found is None:
            if name in ops.CONSTANTS:
                found = self._add(CONST, name=name, value=ops.CONSTANTS[name])
            else:
                if self.families.get(name):
                    raise self.error(self._at(pos), f"'{name}' is an indexed family: write "
                                                    f"{name}[1], {name}[2], ...")
                nodes = self.nodes  # (as _add makes a variable: it has no call label)
                found = len(nodes)
                nodes.append(BareNode(found, VAR, (), name))
                self.first_use.setdefault(name, pos)
            if self.marks or self.open:  # (as _bind does; a new name: nothing it replaces)
                self.journal.append((name, None))
            self.scope[name] = found
        return found

    def _at(self, pos: int):
        """A place in the source: a position, or ~k for the program's token k (a name's
        use, whose position is worked out only for an error)."""
        return self.tokens.token(~pos) if pos < 0 else pos

    def _materialize(self, value) -> int:
        if type(value) is Lit:
            return self._add(CONST, value=value.value)
        return value

    def _int(self, value, pos, what: str) -> int:
        """The integer a compile-time value stands for, or an error naming what it is."""
        if type(value) is not Lit:
            node = self.nodes[value]
            if node.op is CONST and node.name not in ops.CONSTANTS:
                value = Lit(node.value)
            else:
                raise self._not_known(node, pos, what)
        v = value.value
        if v != v or v in (float("inf"), float("-inf")) or v != int(v):
            from .numtext import text  # (loaded already: `1e-7`, not repr's `1e-07`)
            raise self.error(pos, f"{what} must be an integer, not {text(v)}")
        return int(v)

    def _not_known(self, node, pos, what: str) -> NameResolutionError:
        """The error for a node that stands where an integer known now must be."""
        label = node.name or "an expression"
        if node.op is VAR:
            label = f"'{node.name}'"
            if node.name in self.index_names:
                return self.error(pos, f"{what}: index variable {label} is used outside its "
                                       "comprehension")
        return self.error(pos, f"{what} must be an integer known before evaluation (an "
                               f"integer, an index variable or a constant), not {label}")

    def _constant(self, node: int):
        """A node's value as a Lit if it is a number known now, else the node."""
        n = self.nodes[node]
        if n.op is CONST and n.name not in ops.CONSTANTS:
            return Lit(n.value)
        return node

    # -- copying templates -----------------------------------------------------------------

    def _copy(self, template: list[Node], roots, env: dict, outside=None) -> list:
        """Copy the part of `template` that `roots` need, with `env` (name -> node id or
        Lit) for its placeholders and `outside` (if given: node id before the template ->
        what it stands for now, a pending comprehension's); return what each root became."""
        if not template:
            return [r if type(r) is Lit else self._constant(r)
                    for r in (roots if outside is None else [outside[r] for r in roots])]
        base = template[0].id
        needed = self._needed(template, roots)
        out: list = [None] * len(template)
        nodes = self.nodes
        relabel: dict[str, str] = {}  # a call inside the template -> this copy's label

        if outside is None:
            def get(j):
                return out[j - base] if j >= base else j
        else:
            def get(j):
                return out[j - base] if j >= base else outside[j]

        for k, n in enumerate(template):
            if not needed[k]:
                continue
            op = n.op
            if op is VAR:
                found = env.get(n.name)
                r = found if found is not None else self._lookup(n.name, 0)
            elif op is CONST:
                r = self._lookup(n.name, 0) if n.name else Lit(n.value)
            elif op is INDEX:
                args = [get(j) for j in n.inputs]
                known = [a if type(a) is Lit else self._fold(a) for a in args]
                if None in known and (self.marks or self.open):  # still not known
                    r = self._placeholder(n.name, args, n.value)
                else:
                    index = tuple(self._int(a if k is None else k, n.value,
                                            f"an index of '{n.name}'")
                                  for a, k in zip(args, known))
                    r = self._element(n.name, index, n.value)
            else:
                args = [get(j) for j in n.inputs]
                fold = _FOLD.get(op)
                if fold is not None and all(type(a) is Lit for a in args) and \
                        all(a.value == int(a.value) for a in args):
                    r = Lit(fold(args[0].value, args[1].value))
                elif op is ops.NEG and type(args[0]) is Lit:
                    r = Lit(-args[0].value)
                elif op is PENDING:
                    r = self._expand(n.value, args)
                else:
                    inputs = tuple(a if type(a) is not Lit else self._materialize(a)
                                   for a in args)
                    r = len(nodes)
                    call = self.label
                    if call is None and n.call is not None:  # each copy of a call is a
                        call = relabel.get(n.call) or relabel.setdefault(  # call of its own
                            n.call, self._call_label(n.call.partition("#")[0]))
                    nodes.append(BareNode(r, op, inputs) if call is None
                                 else Node(r, op, inputs, None, None, call))
            out[k] = r
        return [get(r) for r in roots]

    @staticmethod
    def _needed(template, roots) -> list[bool]:
        """Which template nodes the roots depend on."""
        needed = [False] * len(template)
        if not template:
            return needed
        base = template[0].id
        for r in roots:
            if r >= base:
                needed[r - base] = True
        for k in range(len(template) - 1, -1, -1):
            if needed[k]:
                for j in template[k].inputs:
                    if j >= base:
                        needed[j - base] = True
        return needed

    def _count(self, template, roots, how_many: int, pos) -> None:
        """Refuse an expansion that would take the program past LIMIT nodes made by
        expansions, saying how many it would make."""
        size = sum(self._needed(template, roots)) + 1
        if self.expanded + how_many * size > LIMIT:
            raise self._too_many(how_many, size, pos)
        self.expanded += how_many * size

    def _too_many(self, how_many: int, size: int, pos, least="") -> NameResolutionError:
        before = f" (expansions before it made {self.expanded:,})" if self.expanded else ""
        return self.error(pos, f"this expansion would make {least}{how_many * size:,} nodes "
                               f"({least}{how_many:,} × {size}); the limit is {LIMIT:,}{before}")

    def _clauses(self, clauses):
        """`for` clauses as the parser gives them (name, lo, hi, ...) -> [(name token, lo,
        hi)]."""
        return [(self.tokens.token(clauses[k]), clauses[k + 1], clauses[k + 2])
                for k in range(0, len(clauses), 3)]

    def _scan(self, template, base, clauses):
        """Per `for` clause, the variables its bounds use: (name, the node's id if it is
        before the template (which starts at id `base`) else None, which bound, the node).
        Refuses an index named like a constant or function, one bound twice, and one a
        range uses before its own `for`."""
        own = [var.group() for var, _, _ in clauses]
        nodes = self.nodes
        uses = []
        for k, (var, lo, hi) in enumerate(clauses):
            name = own[k]
            if name in ops.CONSTANTS or ops.arities(name) or name in self.functions:
                raise self.error(var, f"the index variable '{name}' shadows a "
                                      f"{'constant' if name in ops.CONSTANTS else 'function'}")
            if name in own[:k]:
                raise self.error(var, f"'{name}' is bound twice in one comprehension")
            refs = []
            for root, what in ((lo, "the start of a range"), (hi, "the end of a range")):
                stack, seen = [root], set()
                while stack:  # the bound's nodes, without recursion
                    j = stack.pop()
                    if j in seen:
                        continue
                    seen.add(j)
                    n = template[j - base] if j >= base else nodes[j]
                    if n.op is VAR:
                        if n.name in own[k:]:
                            later = "itself" if n.name == name else \
                                f"before its `for {n.name} in …`"
                            raise self.error(var, f"the range of '{name}' uses '{n.name}' "
                                                  f"{later}")
                        refs.append((n.name, j if j < base else None, what, n))
                    elif j >= base:
                        stack.extend(n.inputs)
            uses.append(refs)
            self.index_names.setdefault(name, var.start())
        return uses

    @staticmethod
    def _free(clauses, uses):
        """The variables the ranges use that none of the clauses binds, with the clause."""
        own = [var.group() for var, _, _ in clauses]
        return [(var, ref) for k, ((var, _, _), refs) in enumerate(zip(clauses, uses))
                for ref in refs if ref[0] not in own[:k]]

    def _range(self, template, clause, env, outside, empty_ok: bool) -> range:
        """A clause's range for the index values in `env`."""
        var, lo, hi = clause
        made = len(self.nodes)
        a, b = self._copy(template, [lo, hi], env, outside)
        a = self._int(a if type(a) is Lit else self._fold(a) or a, var.end(),
                      "the start of a range")
        b = self._int(b if type(b) is Lit else self._fold(b) or b, var.end(),
                      "the end of a range")
        del self.nodes[made:]  # (arithmetic on a constant argument, `1..n+1` at f(2*3))
        if b < a:
            if not empty_ok:
                raise self.error(var, f"the range {a}..{b} of '{var.group()}' is empty")
            self.empty = (var.group(), a, b)
        return range(a, b + 1)

    def _index_values(self, template, clauses, uses, env, outside, roots, pos) -> list:
        """Every combination of index values (`env` and the clauses' names -> Lit), the
        first clause outermost, as a loop would make them: a range whose bounds use an
        index is worked out for each value of the indices before it, and may be empty for
        some (a range of numbers and constants only may not). Counted against LIMIT."""
        if not any(uses):  # the common case: every range known at once
            combos = [env]
            ranges = [self._range(template, c, env, outside, False) for c in clauses]
            how_many = 1
            for values in ranges:
                how_many *= len(values)
            self._count(template, roots, how_many, pos)
            for (var, _, _), values in zip(clauses, ranges):
                name = var.group()
                combos = [dict(c, **{name: Lit(float(v))}) for c in combos for v in values]
            return combos
        size = sum(self._needed(template, roots)) + 1
        room = (LIMIT - self.expanded) // size  # combinations that still fit
        combos = [env]
        for clause, refs in zip(clauses, uses):
            name = clause[0].group()
            fixed = None if refs else self._range(template, clause, env, outside, False)
            more = []
            for c in combos:
                values = fixed or self._range(template, clause, c, outside, True)
                if len(more) + len(values) > room:  # (counted so far: the least it makes)
                    raise self._too_many(len(more) + len(values), size, pos, "at least ")
                more += [dict(c, **{name: Lit(float(v))}) for v in values]
            combos = more
        self.expanded += len(combos) * size
        return combos

    # -- statements ------------------------------------------------------------------------

    def _check_assignable(self, match, name: str) -> None:
        if name in ops.CONSTANTS:
            raise self.error(match, f"cannot assign to the constant '{name}'")
        if name in self.assigned:
            raise self.error(match, f"'{name}' is assigned twice")
        if name in self.scope:
            raise self.error(match, f"'{name}' is assigned after it was used as an input")

    def _assign(self, match, name: str, value: int) -> None:
        self._check_assignable(match, name)
        node = self.nodes[value]
        if node.name is None:
            node.name = name  # a named intermediate: one node, shared by its uses
        self.scope[name] = value  # otherwise an alias of an existing named node
        self.assigned.add(name)
        self.output = (name, value)

    def assign(self, c):
        at, value = c
        name = self.tokens.pieces[at]
        scope = self.scope
        if name in scope or name in self.families or name in ops.CONSTANTS:
            match = self.tokens.token(at)
            if name in self.families:
                raise self.error(match, f"'{name}' is an indexed family; assign {name}[1], "
                                        "...")
            self._check_assignable(match, name)  # raises: each case says why
        node = self.nodes[value]  # (as _assign does, without the checks just made)
        if node.name is None:
            node.name = name
        scope[name] = value
        self.assigned.add(name)
        self.output = (name, value)
        if self.serial != self.numbered:
            self._number_calls()
        self.statement_start = len(self.nodes)

    def expression(self, c):
        self.output = ("f", c[0])
        self._end_statement()

    def _end_statement(self) -> None:
        if self.serial != self.numbered:
            self._number_calls()
        self.statement_start = len(self.nodes)

    def target(self, c):
        match, *indices = c
        match = self.tokens.token(match)
        self.open += 1
        return Target(match, indices, self.marks.pop())

    def assign_family(self, c):
        target, body, *clauses = c
        self.open -= 1
        family = target.match.group()
        pos = target.match.start()
        if family in self.assigned or family in self.scope and not self.families.get(family):
            raise self.error(target.match, f"'{family}' is a plain name, not a family")
        if self.families.get(family) == "variable":
            raise self.error(target.match, f"'{family}' is assigned after it was used as "
                                           "an input")
        template = self._cut(target.mark)
        clauses = self._clauses(clauses)
        uses = self._scan(template, target.mark[0], clauses)
        self._refuse_free(clauses, uses)
        roots = target.indices + [body]
        combos = self._index_values(template, clauses, uses, {}, None, roots, pos)
        if not combos:
            raise self.error(target.match, f"'{family}' gets no element: the range "
                                           f"{self.empty[1]}..{self.empty[2]} of "
                                           f"'{self.empty[0]}' is empty each time")
        self.families[family] = "assigned"
        for env in combos:
            *index, value = self._copy(template, roots, env)
            index = tuple(self._int(v, pos, f"an index of '{family}'") for v in index)
            self._assign(target.match, element_name(family, index), self._materialize(value))
        self._end_statement()

    def head(self, c):
        match, *params = c
        match = self.tokens.token(match)
        mark = self.marks.pop()
        at = mark[0]
        name = match.group()
        if name in ops.CONSTANTS or ops.arities(name) or name in REDUCTIONS:
            what = "constant" if name in ops.CONSTANTS else "builtin function"
            raise self.error(match, f"the definition of '{name}' shadows the {what} "
                                    f"'{name}'")
        if name in self.functions:
            raise self.error(match, f"the function '{name}' is defined twice")
        names = []
        for p in params:
            node = self.nodes[p]
            if node.name is None or not (node.op is VAR or p < at) \
                    or node.name in ops.CONSTANTS:
                raise self.error(match, f"the parameters of '{name}' must be names")
            if node.name in names:
                raise self.error(match, f"'{node.name}' is a parameter of '{name}' twice")
            names.append(node.name)
        self._cut(mark)
        self.open += 1
        mark = self._mark()
        for p in names:
            self._bind(p, self._add(VAR, name=p))
        self.defining.append((name, names, mark, match))
        return None

    def define(self, c):
        (body,) = c
        name, params, mark, match = self.defining.pop()
        self.open -= 1
        template = self._cut(mark)
        self.functions[name] = Function(name, params, template, body)
        self.statement_start = len(self.nodes)

    # -- atoms -----------------------------------------------------------------------------

    def number(self, c):  # (at parse time no call is being expanded: no label)
        nodes = self.nodes
        i = len(nodes)
        text = self.tokens.take(c[0])
        v = float(text)
        if not v or v > 1.7976931348623157e308:  # 0 or Infinity: is it the number written?
            self._check_literal(c[0], text, v)
        nodes.append(Node(i, CONST, (), None, v))
        return i

    def _check_literal(self, at: int, text: str, v: float) -> None:
        """A literal is the number written, as a binding's value is (numtext.misread):
        `1e999` (float() reads Infinity) and `1e-400` (0) are errors at the literal."""
        from .numtext import misread, misread_literal

        if misread(text, v):
            pos = self.tokens.token(at).start()
            raise NumberError(misread_literal(text, v), self.source,
                              *line_column(self.source, pos), text, v)

    def name(self, c):  # (a name already in scope is looked up by the parser itself)
        return self._lookup(self.tokens.pieces[c[0]], ~c[0])

    def open_call(self, c):
        self.marks.append((len(self.nodes), len(self.journal)))
        return c[0]

    open_index = open_call

    def call(self, c):
        self.marks.pop()
        name = self.tokens.pieces[c[0]]
        op = ops.lookup_function(name, len(c) - 1)
        if op is not None and name not in self.functions:  # a builtin: the common case
            self.tokens.pieces[c[0]] = None  # its name is read for good
            nodes = self.nodes
            i = len(nodes)
            nodes.append(BareNode(i, op, tuple(c[1:])))
            return i
        match, *args = c
        match = self.tokens.token(match)
        fn = self.functions.get(name)
        if fn is not None:
            return self._call(fn, match, args)
        if self.defining and self.defining[-1][0] == name:
            raise self.error(match, f"'{name}' calls itself ({name} -> {name}): "
                                    "recursion is not allowed")
        op = ops.lookup_function(name, len(args))
        if op is None and name in REDUCTIONS:
            raise self.error(match, f"{name}() takes a comprehension: "
                                    f"{name}(... for i in 1..n)")
        if op is None:
            takes = ops.arities(name)
            if not takes:
                raise self._unknown_function(name, match, len(args))
            counts = " or ".join(str(a) for a in takes)
            plural = "s" if takes[-1] != 1 else ""
            raise self.error(match, f"{name}() takes {counts} argument{plural}, "
                                    f"not {len(args)}")
        i = len(self.nodes)
        self.nodes.append(BareNode(i, op, tuple(args)))
        return i

    def _unknown_function(self, name: str, match, arity: int) -> UnknownFunction:
        """`f(2)` with no function f: a function's name close to it (`sine`: sin); else,
        where f stands elsewhere in the program as a value (`x + x(1)`), the product that
        was likely meant (`write x*(1)`); else how to define f. The product rides along
        (`UnknownFunction.product`) for the command line, which knows the bindings."""
        product = product_hint(name, _bracketed(self.source, match.end()))
        hint = did_you_mean(name, ops.function_names() + list(self.functions))
        if not hint and self._is_value(name, match.index):
            hint = product
        if not hint:
            params = ", ".join("abcdefgh"[:arity]) if arity <= 8 else "a, b, …"
            hint = f"; define it before its use: {name}({params}) = …"
        line, column = line_column(self.source, match.start())
        return UnknownFunction(f"unknown function '{name}'{hint}", self.source, line,
                               column, name, product if hint != product else None)

    def _is_value(self, name: str, at: int) -> bool:
        """Whether `name` stands in the program, outside token `at`, not before '(': a
        variable or an assigned name (only on the error path)."""
        if name in self.scope:
            return True
        pieces = self.tokens.pieces
        for k, piece in enumerate(pieces):
            if piece == name and k != at:
                j = k + 1
                while j < len(pieces) and pieces[j] is not None and \
                        (not pieces[j].strip() or pieces[j].lstrip().startswith("#")):
                    j += 1
                if j == len(pieces) or pieces[j] != "(":
                    return True
        return False

    def _call(self, fn: Function, match, args):
        if len(args) != len(fn.params):
            plural = "s" if len(fn.params) != 1 else ""
            raise self.error(match, f"{fn.name}() takes {len(fn.params)} argument{plural}, "
                                    f"not {len(args)}")
        self._count(fn.template, [fn.root], 1, match.start())
        outer = self.label
        if outer is None:
            self.label = self._call_label(fn.name)
        try:
            (result,) = self._copy(fn.template, [fn.root], dict(zip(fn.params, args)))
            return self._materialize(result)
        finally:
            self.label = outer

    def _call_label(self, name: str) -> str:
        """A placeholder `neuron#?7` for a call's nodes; each copy of a body gets its own,
        and the end of the statement numbers them in node order: `neuron#2`."""
        self.serial += 1
        return f"{name}#?{self.serial}"

    def _number_calls(self) -> None:
        self.numbered = self.serial
        relabel: dict[str, str] = {}
        for n in self.nodes[self.statement_start:]:
            if n.call is not None and "#?" in n.call:
                label = relabel.get(n.call)
                if label is None:
                    fn = self.functions[n.call.partition("#")[0]]
                    fn.calls += 1
                    label = relabel[n.call] = f"{fn.name}#{fn.calls}"
                n.call = label

    def comprehension(self, c):
        match, body, *clauses = c
        match = self.tokens.token(match)
        clauses = self._clauses(clauses)
        mark = self.marks.pop()
        name = match.group()
        op = REDUCTIONS.get(name)
        if op is None:
            raise self.error(match, f"only sum, prod, max and min take a comprehension, "
                                    f"not '{name}'")
        template = self._cut(mark)
        uses = self._scan(template, mark[0], clauses)
        if self.marks or self.open:  # perhaps an enclosing index: expand when copying
            if self._free(clauses, uses):
                return self._defer(match, template, mark[0], body, clauses, uses)
        else:
            self._refuse_free(clauses, uses)
        return self._materialize(self._reduce(match, template, body, clauses, uses, {}, None))

    def _reduce(self, match, template, body, clauses, uses, env, outside):
        """The comprehension's terms, combined by its reduction: a node, or a Lit when it
        has no terms (0 for sum, 1 for prod)."""
        op = REDUCTIONS[match.group()]
        combos = self._index_values(template, clauses, uses, env, outside, [body],
                                    match.start())
        total = None
        for env in combos:
            (value,) = self._copy(template, [body], env, outside)
            value = self._materialize(value)
            total = value if total is None else self._add(op, (total, value))
        if total is None:  # (only a range whose bounds use an index may be empty)
            if op is ops.ADD or op is ops.MUL:
                return Lit(0.0 if op is ops.ADD else 1.0)
            index, a, b = self.empty
            raise self.error(match, f"{match.group()}() has no terms: the range {a}..{b} of "
                                    f"'{index}' is empty")
        return total

    def _refuse_free(self, clauses, uses) -> None:
        """Outside any construct that could bind them later, the names the ranges use must
        be the clauses' own."""
        free = self._free(clauses, uses)
        if free:
            var, (_, _, what, node) = free[0]
            raise self._not_known(node, var.end(), what)

    def _defer(self, match, template, base, body, clauses, uses) -> int:
        """The PENDING node of a comprehension whose ranges use a name not known yet; the
        variables inside its template are looked up now, as a copy would."""
        own = {var.group() for var, _, _ in clauses}
        names = list(dict.fromkeys(n.name for n in template
                                   if n.op is VAR and n.name not in own))
        roots = [body] + [j for _, lo, hi in clauses for j in (lo, hi)]
        outside = sorted({j for n in template for j in n.inputs if j < base}
                         | {j for j in roots if j < base})
        pending = Pending(match, template, body, clauses, uses, names, outside)
        args = [self._lookup(name, match.start()) for name in names] + outside
        return self._pending(pending, args)

    def _pending(self, pending: Pending, args) -> int:
        self.placeholders += 1
        i = len(self.nodes)
        inputs = tuple(self._materialize(a) for a in args)
        self.nodes.append(Node(i, PENDING, inputs, None, pending))
        return i

    def _expand(self, p: Pending, args):
        """A pending comprehension met while copying, `args` what its node's inputs became:
        expanded if the names its ranges use are known now, else pending again (inside a
        construct that may bind them yet) or an error."""
        env = dict(zip(p.names, args))
        outside = dict(zip(p.outside, args[len(p.names):]))
        for var, (name, ext, what, _) in self._free(p.clauses, p.uses):
            value = env[name] if ext is None else outside[ext]
            if type(value) is not Lit and self._fold(value) is None:
                if self.marks or self.open:
                    return self._pending(p, args)
                self._int(value, var.end(), what)  # raises, saying why
        if self.depth >= NESTING:
            raise self.error(p.match, f"comprehensions whose ranges use an enclosing index "
                                      f"nest {NESTING} deep at most")
        self.depth += 1
        try:
            return self._reduce(p.match, p.template, p.body, p.clauses, p.uses, env, outside)
        finally:
            self.depth -= 1

    def subscript(self, c):
        match, *indices = c
        match = self.tokens.token(match)
        mark = self.marks.pop()
        family = match.group()
        known = [self._fold(i) for i in indices]
        if None not in known:
            self._cut(mark)
            index = tuple(self._int(k, match.start(), f"an index of '{family}'")
                          for k in known)
            return self._element(family, index, match.start())
        if self.marks or self.open:  # perhaps an index variable: decide when copying
            return self._placeholder(family, indices, match.start())
        bad = next(i for i, k in zip(indices, known) if k is None)
        self._int(bad, match.start(), f"an index of '{family}'")  # raises, saying why

    def _placeholder(self, family, indices, pos) -> int:
        self.placeholders += 1
        return self._add(INDEX, tuple(self._materialize(i) for i in indices), family, pos)

    def _fold(self, node):
        """The Lit an index expression folds to now (integer literals and constants, and
        + - * on them), or None when it depends on something not known yet."""
        if type(node) is Lit:
            return node
        nodes = self.nodes
        stack, order, seen = [node], [], set()
        while stack:  # the expression's nodes, without recursion
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            order.append(k)
            n = nodes[k]
            if n.op is CONST:
                if n.name in ops.CONSTANTS:
                    return None
            elif n.op in _FOLD or n.op is ops.NEG:
                stack.extend(n.inputs)
            else:
                return None
        values = {}
        for k in sorted(order):
            n = nodes[k]
            if n.op is CONST:
                values[k] = n.value
            elif n.op is ops.NEG:
                values[k] = -values[n.inputs[0]]
            else:
                a, b = (values[j] for j in n.inputs)
                if a != int(a) or b != int(b):
                    return None
                values[k] = _FOLD[n.op](a, b)
        return Lit(values[node])

    def _element(self, family: str, index, pos) -> int:
        key = element_name(family, index)
        found = self.scope.get(key)
        if found is not None:
            return found
        kind = self.families.get(family)
        if kind == "assigned":
            raise self.error(pos, f"{key} is out of range: {family} is assigned for other "
                                  "indices only")
        if family in self.scope or family in self.assigned:
            raise self.error(pos, f"'{family}' is a plain name, not an indexed family")
        self.families[family] = "variable"
        node = self._add(VAR, name=key)
        self.first_use.setdefault(key, pos)
        self._bind(key, node)
        return node

    def compare(self, c):
        a, match, b = c
        return self._add(ops.OPS[COMPARISONS[self.tokens.pieces[match]]], (a, b))

    def neg(self, c):
        return self._add(ops.NEG, (c[0],))

    def pos(self, c):
        return c[0]

    # -- at the end ------------------------------------------------------------------------

    def finish(self) -> None:
        """Nothing left half-expanded; index variables only inside their comprehensions;
        calls numbered in the order their nodes appear."""
        if not (self.placeholders or self.index_names):
            return
        for n in self.nodes:
            if n.op is INDEX:
                for j in n.inputs:
                    self._int(self._fold(j) or j, n.value, f"an index of '{n.name}'")
            elif n.op is PENDING:  # a name its ranges use was never known
                self._expand(n.value, list(n.inputs))
            elif n.op is VAR and n.name in self.index_names:
                raise self.error(self._at(self.first_use.get(n.name, 0)),
                                 f"index variable '{n.name}' is used outside its "
                                 "comprehension")


def _bracketed(text: str, pos: int) -> str:
    """The text from the bracket at or after `pos` to the one that closes it (a call's
    arguments, for an error message), or what there is of it."""
    start = text.index("(", pos)
    depth = 0
    for end in range(start, len(text)):
        depth += (text[end] in "([") - (text[end] in ")]")
        if depth == 0:
            return text[start:end + 1]
    return text[start:]
