"""The one compiled part of cgraph: `cgraph._csvrows`, which writes `eval --data`'s CSV rows
without Python's lock. It is optional: where no C++17 compiler builds it, the install goes on
and Arrow writes the same bytes, more slowly. Everything else is in pyproject.toml."""

import os

from setuptools import Extension, setup

flags = ["/std:c++17"] if os.name == "nt" else ["-std=c++17"]
setup(ext_modules=[Extension("cgraph._csvrows", ["src/cgraph/_csvrows.cpp"], language="c++",
                             extra_compile_args=flags, optional=True)])
