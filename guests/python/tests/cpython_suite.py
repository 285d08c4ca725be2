# Why ~580 lines in one file: most of it is the ~90 optional imports of
# the standard library the CPython tests use, which must be statements of
# this program (componentize-py keeps only what the app module imported at
# build time, and it imports what the program's statements name); the
# runner itself is the last ~130 lines.
#
# CPython's own subprocess tests, run inside a procgate Python guest
# against procgate (tests/tests/guests/cpython_suite.rs runs it;
# scripts/cpython-tests.sh writes guests/python/cpython-tests.md from it).
#
#   cpython_suite.wasm TESTS_ROOT SCRATCH MODULE:CLASS[.METHOD]...
#
# TESTS_ROOT/test is a guest directory holding CPython's `test` package (granted
# read-only by the host, from an installed CPython: nothing of it is in this
# repository); SCRATCH a writable directory, the tests' cwd and tempfile's directory.
# Prints one line per test: "cpython-test<TAB>id<TAB>outcome<TAB>detail".
#
# What this runner changes, and nothing else:
# - test.support.has_subprocess_support is set to True: the test package
#   says "no subprocess on WASI", which procgate makes untrue;
# - test.test_asyncio's __init__ is not run (it skips the package when the
#   platform has no sockets; procgate's loop needs none);
# - the asyncio tests' SubprocessMixin (the tests of asyncio's subprocess
#   API) runs on asyncio.new_event_loop() (procgate's loop, from the policy
#   procgate installs) instead of the 3.13 child watchers, which the guest's
#   CPython 3.14 no longer has (as 3.14's own test file does).
import importlib
import importlib.util
import os
import sys
import time
import traceback
import unittest

# The standard library the tests import, in the component: a guest imports at
# run time only what was imported when it was built, and the app module
# imports what these statements name. Each is optional (in a try): those
# the WASI build lacks (fcntl, grp, pwd, ssl, _testcapi, ...) are left out,
# and the tests see the ImportError they handle.
try:
    import abc  # noqa: F401
except ImportError:
    pass
try:
    import argparse  # noqa: F401
except ImportError:
    pass
try:
    import array  # noqa: F401
except ImportError:
    pass
try:
    import ast  # noqa: F401
except ImportError:
    pass
try:
    import asyncio  # noqa: F401
except ImportError:
    pass
try:
    import asyncio.base_events  # noqa: F401
except ImportError:
    pass
try:
    import asyncio.base_subprocess  # noqa: F401
except ImportError:
    pass
try:
    import asyncio.unix_events  # noqa: F401
except ImportError:
    pass
try:
    import asyncio.selector_events  # noqa: F401
except ImportError:
    pass
try:
    import asyncio.sslproto  # noqa: F401
except ImportError:
    pass
try:
    import asyncio.trsock  # noqa: F401
except ImportError:
    pass
try:
    import atexit  # noqa: F401
except ImportError:
    pass
try:
    import base64  # noqa: F401
except ImportError:
    pass
try:
    import binascii  # noqa: F401
except ImportError:
    pass
try:
    import bisect  # noqa: F401
except ImportError:
    pass
try:
    import bz2  # noqa: F401
except ImportError:
    pass
try:
    import codecs  # noqa: F401
except ImportError:
    pass
try:
    import collections  # noqa: F401
except ImportError:
    pass
try:
    import collections.abc  # noqa: F401
except ImportError:
    pass
try:
    import concurrent.futures  # noqa: F401
except ImportError:
    pass
try:
    import contextlib  # noqa: F401
except ImportError:
    pass
try:
    import contextvars  # noqa: F401
except ImportError:
    pass
try:
    import copy  # noqa: F401
except ImportError:
    pass
try:
    import copyreg  # noqa: F401
except ImportError:
    pass
try:
    import dataclasses  # noqa: F401
except ImportError:
    pass
try:
    import datetime  # noqa: F401
except ImportError:
    pass
try:
    import difflib  # noqa: F401
except ImportError:
    pass
try:
    import dis  # noqa: F401
except ImportError:
    pass
try:
    import email  # noqa: F401
except ImportError:
    pass
try:
    import email.message  # noqa: F401
except ImportError:
    pass
try:
    import email.parser  # noqa: F401
except ImportError:
    pass
try:
    import email.utils  # noqa: F401
except ImportError:
    pass
try:
    import encodings  # noqa: F401
except ImportError:
    pass
try:
    import enum  # noqa: F401
except ImportError:
    pass
try:
    import errno  # noqa: F401
except ImportError:
    pass
try:
    import fcntl  # noqa: F401
except ImportError:
    pass
try:
    import fnmatch  # noqa: F401
except ImportError:
    pass
try:
    import functools  # noqa: F401
except ImportError:
    pass
try:
    import gc  # noqa: F401
except ImportError:
    pass
try:
    import genericpath  # noqa: F401
except ImportError:
    pass
try:
    import gettext  # noqa: F401
except ImportError:
    pass
try:
    import glob  # noqa: F401
except ImportError:
    pass
try:
    import grp  # noqa: F401
except ImportError:
    pass
try:
    import heapq  # noqa: F401
except ImportError:
    pass
try:
    import html  # noqa: F401
except ImportError:
    pass
try:
    import http  # noqa: F401
except ImportError:
    pass
try:
    import http.client  # noqa: F401
except ImportError:
    pass
try:
    import http.server  # noqa: F401
except ImportError:
    pass
try:
    import importlib.machinery  # noqa: F401
except ImportError:
    pass
try:
    import inspect  # noqa: F401
except ImportError:
    pass
try:
    import io  # noqa: F401
except ImportError:
    pass
try:
    import ipaddress  # noqa: F401
except ImportError:
    pass
try:
    import itertools  # noqa: F401
except ImportError:
    pass
try:
    import json  # noqa: F401
except ImportError:
    pass
try:
    import locale  # noqa: F401
except ImportError:
    pass
try:
    import logging  # noqa: F401
except ImportError:
    pass
try:
    import logging.handlers  # noqa: F401
except ImportError:
    pass
try:
    import lzma  # noqa: F401
except ImportError:
    pass
try:
    import marshal  # noqa: F401
except ImportError:
    pass
try:
    import math  # noqa: F401
except ImportError:
    pass
try:
    import mimetypes  # noqa: F401
except ImportError:
    pass
try:
    import opcode  # noqa: F401
except ImportError:
    pass
try:
    import operator  # noqa: F401
except ImportError:
    pass
try:
    import pkgutil  # noqa: F401
except ImportError:
    pass
try:
    import platform  # noqa: F401
except ImportError:
    pass
try:
    import posixpath  # noqa: F401
except ImportError:
    pass
try:
    import pprint  # noqa: F401
except ImportError:
    pass
try:
    import pwd  # noqa: F401
except ImportError:
    pass
try:
    import py_compile  # noqa: F401
except ImportError:
    pass
try:
    import quopri  # noqa: F401
except ImportError:
    pass
try:
    import random  # noqa: F401
except ImportError:
    pass
try:
    import re  # noqa: F401
except ImportError:
    pass
try:
    import reprlib  # noqa: F401
except ImportError:
    pass
try:
    import resource  # noqa: F401
except ImportError:
    pass
try:
    import select  # noqa: F401
except ImportError:
    pass
try:
    import selectors  # noqa: F401
except ImportError:
    pass
try:
    import shlex  # noqa: F401
except ImportError:
    pass
try:
    import shutil  # noqa: F401
except ImportError:
    pass
try:
    import signal  # noqa: F401
except ImportError:
    pass
try:
    import socket  # noqa: F401
except ImportError:
    pass
try:
    import socketserver  # noqa: F401
except ImportError:
    pass
try:
    import ssl  # noqa: F401
except ImportError:
    pass
try:
    import stat  # noqa: F401
except ImportError:
    pass
try:
    import string  # noqa: F401
except ImportError:
    pass
try:
    import struct  # noqa: F401
except ImportError:
    pass
try:
    import subprocess  # noqa: F401
except ImportError:
    pass
try:
    import sysconfig  # noqa: F401
except ImportError:
    pass
try:
    import tempfile  # noqa: F401
except ImportError:
    pass
try:
    import textwrap  # noqa: F401
except ImportError:
    pass
try:
    import threading  # noqa: F401
except ImportError:
    pass
try:
    import time  # noqa: F401
except ImportError:
    pass
try:
    import token  # noqa: F401
except ImportError:
    pass
try:
    import tokenize  # noqa: F401
except ImportError:
    pass
try:
    import types  # noqa: F401
except ImportError:
    pass
try:
    import typing  # noqa: F401
except ImportError:
    pass
try:
    import unittest.mock  # noqa: F401
except ImportError:
    pass
try:
    import urllib  # noqa: F401
except ImportError:
    pass
try:
    import urllib.parse  # noqa: F401
except ImportError:
    pass
try:
    import warnings  # noqa: F401
except ImportError:
    pass
try:
    import weakref  # noqa: F401
except ImportError:
    pass
try:
    import wsgiref  # noqa: F401
except ImportError:
    pass
try:
    import wsgiref.simple_server  # noqa: F401
except ImportError:
    pass
try:
    import zipfile  # noqa: F401
except ImportError:
    pass
try:
    import zlib  # noqa: F401
except ImportError:
    pass
try:
    import _testcapi  # noqa: F401
except ImportError:
    pass
try:
    import _testinternalcapi  # noqa: F401
except ImportError:
    pass
try:
    import _testlimitedcapi  # noqa: F401
except ImportError:
    pass
# Codecs are looked up by name at first use: those the tests use.
import encodings.utf_16  # noqa: E402,F401
import encodings.utf_16_be  # noqa: E402,F401
import encodings.utf_16_le  # noqa: E402,F401
import encodings.utf_32  # noqa: E402,F401
import encodings.utf_32_be  # noqa: E402,F401
import encodings.utf_32_le  # noqa: E402,F401
import encodings.latin_1  # noqa: E402,F401
import encodings.ascii  # noqa: E402,F401
import encodings.utf_8_sig  # noqa: E402,F401


class Result(unittest.TestResult):
    """Prints each test's outcome as it ends."""

    def _line(self, test, outcome, detail=""):
        detail = " ".join(str(detail).split())[:300]
        print(f"cpython-test\t{test.id()}\t{outcome}\t{detail}", flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(test, "fail", _last_line(err))

    def addError(self, test, err):
        super().addError(test, err)
        self._line(test, "error", _last_line(err))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(test, "skip", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._line(test, "pass", "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line(test, "fail", "unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            outcome = "fail" if issubclass(err[0], test.failureException) else "error"
            self._line(test, outcome, f"{subtest._subDescription()}: {_last_line(err)}")


def _last_line(err):
    lines = traceback.format_exception_only(err[0], err[1])
    return lines[-1].strip() if lines else repr(err[1])


def _asyncio_class(module):
    # (Imported by name: the test package is not in the component.)
    test_utils = importlib.import_module("test.test_asyncio.utils")

    class SubprocessProcgateLoopTests(module.SubprocessMixin, test_utils.TestCase):
        def setUp(self):
            super().setUp()
            self.loop = asyncio.new_event_loop()
            self.set_event_loop(self.loop)

    SubprocessProcgateLoopTests.__module__ = module.__name__
    SubprocessProcgateLoopTests.__qualname__ = "SubprocessMixin"
    return SubprocessProcgateLoopTests


def _load_test_package(root):
    # The grant is ROOT/test itself (ROOT is no directory of the guest's),
    # so the package is loaded from its path, not found on sys.path; its
    # submodules are then found in it.
    path = os.path.join(root, "test")
    spec = importlib.util.spec_from_file_location(
        "test", os.path.join(path, "__init__.py"), submodule_search_locations=[path]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules["test"] = package
    spec.loader.exec_module(package)
    # test.test_asyncio's __init__ skips the whole package without sockets,
    # which asyncio's own loops need and procgate's does not: the package
    # is made without running it (it holds only that check and load_tests).
    path = os.path.join(path, "test_asyncio")
    spec = importlib.util.spec_from_file_location(
        "test.test_asyncio", os.path.join(path, "__init__.py"), submodule_search_locations=[path]
    )
    sys.modules["test.test_asyncio"] = package.test_asyncio = importlib.util.module_from_spec(spec)


def main(root, scratch, specs):
    _load_test_package(root)
    os.chdir(scratch)
    import tempfile

    tempfile.tempdir = scratch
    support = importlib.import_module("test.support")
    support.has_subprocess_support = True
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for spec in specs:
        module_name, _, class_name = spec.partition(":")
        class_name, _, method = class_name.partition(".")
        module = importlib.import_module(module_name)
        case = _asyncio_class(module) if class_name == "SubprocessMixin" else getattr(module, class_name)
        if method:
            suite.addTest(case(method))
        else:
            suite.addTests(loader.loadTestsFromTestCase(case))
    result = Result()
    start = time.monotonic()
    suite.run(result)
    print(f"cpython-suite\tran {result.testsRun} in {time.monotonic() - start:.0f} s", flush=True)


import asyncio  # noqa: E402

main(sys.argv[1], sys.argv[2], sys.argv[3:])
