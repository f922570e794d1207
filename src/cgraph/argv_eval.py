# Generated from cli.py's eval command by `python -m cgraph.argv` (see argv.py);
# tests/test_argv.py checks that it is what cli.py declares. Do not edit.
# (name, option strings, kind, type, the value when absent)
PARAMS = (
    ('program_file', ('--file',), 'value', ('file',), None),
    ('bindings_file', ('--bindings',), 'value', ('string',), None),
    ('args', ('args',), 'args', ('string',), ()),
    ('fmt', ('--format',), 'value', ('formats', 'eval_formats'), None),
    ('wrt', ('--wrt',), 'value', ('names', False), None),
    ('outputs', ('--output',), 'value', ('names', False), None),
    ('mode', ('--mode',), 'value', ('choice', ('reverse', 'forward')), None),
    ('tangents', ('--tangent',), 'multiple', ('string',), ()),
    ('digits', ('--digits',), 'value', ('whole number', 1, 17), None),
    ('strict', ('--strict',), 'flag', ('bool',), False),
    ('data_path', ('--data',), 'value', ('file',), None),
    ('output_path', ('-o',), 'value', ('output file',), None),
    ('fields', ('--fields',), 'value', ('names', True), None),
)
