"""Reading YAML that a user hands over: small, plain, unambiguous.

``yaml.safe_load`` already refuses Python tags, but it accepts duplicate keys (the last
one silently wins), aliases that expand to billions of nodes (a few hundred bytes can
take minutes and gigabytes), nesting deep enough to overflow Python's stack, and any
size. :func:`load_yaml_file` refuses all of these with one line naming the file, and
every message quotes at most :data:`QUOTE_LIMIT` characters of the input.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from nwbmotor._errors import NwbMotorValueError

__all__ = ["load_yaml_file", "load_yaml_text", "read_text_file", "clip", "shorten", "QUOTE_LIMIT", "MAX_YAML_BYTES"]

#: characters of user input quoted in any message
QUOTE_LIMIT = 100
#: largest YAML file read (a spec of thousands of sessions is well under it)
MAX_YAML_BYTES = 4 * 1024 * 1024
#: aliases (``*name``) a document may use
MAX_ALIASES = 100
#: nodes the document would have once every alias is expanded
MAX_EXPANDED_NODES = 1_000_000
#: nesting depth of mappings and sequences
MAX_DEPTH = 64


def clip(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters, saying how long it was.

    Examples
    --------
    >>> clip("x" * 500, 10)
    "'xxxxxxxx... (502 characters)"
    >>> clip("M")
    "'M'"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}... ({len(text)} characters)"


def shorten(text: str, limit: int = 3 * QUOTE_LIMIT) -> str:
    """``text`` on one line, cut to ``limit`` characters.

    Examples
    --------
    >>> shorten("a\\nb " + "c" * 20, 8)
    'a b c... (24 characters)'
    """
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else f"{flat[: limit - 3]}... ({len(flat)} characters)"


class _Refused(Exception):
    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.mark = mark


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with budgets on aliases, depth and expanded size; no duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} aliases (*name); expected a plain document",
                               self.peek_event().start_mark)
        elif self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _Refused(f"a mapping key must be a plain value, got {clip(key)}", key_node.start_mark) from None
            if key in seen:
                raise _Refused(
                    f"duplicate key {clip(key)} (first at line {seen[key].line + 1}); "
                    "expected each key once (YAML would keep only the last value)",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: Any) -> int:
    """Nodes of the document with aliases expanded (shared nodes counted at each use)."""
    sizes: dict[int, int] = {}
    # iterative post-order walk; aliases make a DAG, sizes are memoised per node
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if key in sizes:
            continue
        children: list[Any] = []
        if isinstance(current, yaml.MappingNode):
            children = [n for pair in current.value for n in pair]
        elif isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        if done or not children:
            total = 1 + sum(sizes.get(id(c), 0) for c in children)
            sizes[key] = total
            if total > MAX_EXPANDED_NODES:
                return total
        else:
            stack.append((current, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(node)]


def load_yaml_text(text: str, *, source: str = "<text>") -> Any:
    """Parse one YAML document strictly (see the module docstring).

    Examples
    --------
    >>> load_yaml_text("a: 1\\nb: [x, y]")
    {'a': 1, 'b': ['x', 'y']}
    >>> try:
    ...     load_yaml_text("sex: F\\nsex: M", source="spec.yaml")
    ... except ValueError as err:
    ...     print(err)
    spec.yaml: line 2, column 1: duplicate key 'sex' (first at line 1); expected each key once (YAML would keep only the last value)
    """
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node)
        if size > MAX_EXPANDED_NODES:
            raise _Refused(f"expands to more than {MAX_EXPANDED_NODES} values through its aliases; "
                           "expected a plain document")
        return loader.construct_document(node)
    except _Refused as exc:
        where = f"line {exc.mark.line + 1}, column {exc.mark.column + 1}: " if exc.mark is not None else ""
        raise NwbMotorValueError(f"{source}: {where}{exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "").split())
        if "could not determine a constructor" in problem:
            problem = f"{problem[:QUOTE_LIMIT]}; expected plain YAML (no language-specific tags)"
        raise NwbMotorValueError(f"{source}: not valid YAML: {where}{problem[: 2 * QUOTE_LIMIT]}") from None
    except yaml.YAMLError as exc:
        raise NwbMotorValueError(f"{source}: not valid YAML: {clip(str(exc))}") from None
    except RecursionError:
        raise NwbMotorValueError(f"{source}: nested too deeply; expected a plain document") from None
    finally:
        loader.dispose()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_text_file(path: str | os.PathLike[str], *, what: str = "file", max_bytes: int = MAX_YAML_BYTES) -> str:
    """The text of a small UTF-8 file, refused with one line if it is anything else."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise NwbMotorValueError(f"{path}: {what} does not exist") from None
    except OSError as exc:
        raise NwbMotorValueError(f"{path}: {what} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise NwbMotorValueError(f"{path}: {what} is {_kind(info.st_mode)}; expected a YAML file")
    if info.st_size > max_bytes:
        raise NwbMotorValueError(
            f"{path}: {what} is {info.st_size} bytes; expected at most {max_bytes} (is it the right file?)"
        )
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise NwbMotorValueError(f"{path}: {what} cannot be read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise NwbMotorValueError(f"{path}: {what} is over {max_bytes} bytes; expected at most {max_bytes}")
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                      (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            raise NwbMotorValueError(f"{path}: {what} is {name}-encoded; expected UTF-8 (save it as UTF-8)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise NwbMotorValueError(
            f"{path}: {what} is not UTF-8 (byte {data[exc.start]:#04x} at line {line}); expected UTF-8 text"
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise NwbMotorValueError(f"{path}: {what} holds a NUL byte at line {line}; expected UTF-8 text")
    return text


def load_yaml_file(path: str | os.PathLike[str], *, what: str = "YAML file", max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Read and parse a YAML file strictly.

    Parameters
    ----------
    path : str or PathLike
    what : str
        What the file is, for messages ("spec file", "metadata file").
    max_bytes : int
        Size cap.

    Raises
    ------
    NwbMotorValueError
        Not a regular file, too large, not UTF-8, or refused by :func:`load_yaml_text`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.yaml"
    >>> _ = p.write_text("dt: 0.01")
    >>> load_yaml_file(p)
    {'dt': 0.01}
    """
    return load_yaml_text(read_text_file(path, what=what, max_bytes=max_bytes), source=str(path))
