"""What the parser's driver records of a segment of tokens, as steps on its values (see
parser._drive), which the driver runs one by one and replay.compile turns into closures;
and the Splice that carries an inlined rule's values up to its parent's callback."""


class Splice(tuple):
    """The children of an inlined rule (`_args`, Lark's `*` helpers), for the parent."""


EMPTY = Splice()


# What the driver does to the values, as steps it records:
PUSH = "push"  # a kept token's index (its offset in the segment): (PUSH, offset)
NODE = "node"  # a BINARY reduction: (NODE, op)
NAMED = "named"  # a LOOKUP reduction: the top value, a name, becomes its node
CALL = "call"  # a builder callback on the top value: (CALL, callback)
GATHER = "gather"  # an ACTION, SPLICE or DROP reduction of n > 0 values:
#                    (GATHER, (how, n, fn, whether the values are checked))
PUSH_NAMED = "push named"  # PUSH then NAMED: (PUSH_NAMED, (offset, callback))
PUSH_CALL = "push call"  # PUSH then CALL: (PUSH_CALL, (offset, callback))
NAMED_NODE = "named node"  # PUSH_NAMED then NODE, the name the right operand:
#                            (NAMED_NODE, (offset, callback, op))
VALUES = "values"  # any other reduction's values: (VALUES, rule)

# How a GATHER's reduction is carried out (two of parser's kinds of reduction):
SPLICE = "splice"  # the kept children go up to the parent rule as they are
DROP = "drop"  # ACTION for a valueless symbol (a statement): nothing goes on the values
