"""MATLAB class objects (MCOS) in MAT v5 files, as MATLAB writes them and scipy cannot decode.

``scipy.io.savemat`` cannot write class objects. A Dispatcher file holds
``StateMachineAssembler`` objects; MATLAB stores each as an ``mxOPAQUE_CLASS`` element
(array flags, the variable name, the type system ``MCOS``, the class name, and a
uint32 reference into the file's subsystem data) and appends the subsystem data as an
unnamed matrix at the end of the file. :func:`savemat_with_objects` writes such a file:
``scipy.io.savemat`` writes the ordinary variables with a same-sized placeholder where
each object goes, and the placeholders are then replaced by the object elements.
``scipy.io.loadmat`` returns those objects as undecodable ``MatlabOpaque`` values (and a
top-level one under the name ``'None'``); ``scipy.io.whosmat`` fails on them.
"""

from __future__ import annotations

import io
import os
import struct
from typing import Any

import numpy as np

__all__ = ["MatlabClassObject", "opaque_element", "savemat_with_objects"]

_MI_INT8, _MI_INT32, _MI_UINT8, _MI_UINT32, _MI_MATRIX = 1, 5, 2, 6, 14
_MX_OPAQUE, _MX_UINT32 = 17, 13


class MatlabClassObject:
    """Marks where a MATLAB class object (e.g. ``StateMachineAssembler``) goes in a variable."""

    def __init__(self, class_name: str = "StateMachineAssembler", object_id: int = 1) -> None:
        self.class_name = class_name
        self.object_id = object_id


def _el(mtype: int, payload: bytes) -> bytes:
    n = len(payload)
    if 0 < n <= 4:  # small data element format
        return struct.pack("<HH", mtype, n) + payload + b"\0" * (4 - n)
    return struct.pack("<II", mtype, n) + payload + b"\0" * ((-n) % 8)


def opaque_element(name: str, class_name: str, object_id: int = 1) -> bytes:
    """Bytes of one ``miMATRIX`` element of class ``mxOPAQUE_CLASS`` (an MCOS object)."""
    ref = np.array([0xDD000000, 2, 1, 1, object_id, 1], dtype="<u4")
    inner = (
        _el(_MI_UINT32, struct.pack("<II", _MX_UINT32, 0))
        + _el(_MI_INT32, struct.pack("<ii", 6, 1))
        + _el(_MI_INT8, b"")
        + _el(_MI_UINT32, ref.tobytes())
    )
    body = (
        _el(_MI_UINT32, struct.pack("<II", _MX_OPAQUE, 0))
        + _el(_MI_INT8, name.encode())
        + _el(_MI_INT8, b"MCOS")
        + _el(_MI_INT8, class_name.encode())
        + struct.pack("<II", _MI_MATRIX, len(inner))
        + inner
    )
    return struct.pack("<II", _MI_MATRIX, len(body)) + body


def _placeholder(key: int, n_bytes: int) -> np.ndarray:
    # savemat writes a uint8 vector in a struct field or cell as: tag 8, flags 16, dims 16,
    # empty name 8, data 8 + n (n a multiple of 8)
    head = f"@@OBJ{key:06d}@@".encode()
    payload = (head * (n_bytes // len(head) + 1))[:n_bytes]
    return np.frombuffer(payload, dtype=np.uint8).reshape(1, -1)


def _function_workspace(n_objects: int) -> bytes:
    # the subsystem data: version, endian test, padding, then (here) one uint8 matrix
    blob = b"\x00\x01IM\x00\x00\x00\x00" + np.arange(8 * max(n_objects, 1), dtype=np.uint8).tobytes()
    body = (
        _el(_MI_UINT32, struct.pack("<II", 9, 0))  # mxUINT8_CLASS
        + _el(_MI_INT32, struct.pack("<ii", 1, len(blob)))
        + _el(_MI_INT8, b"")
        + _el(_MI_UINT8, blob)
    )
    return struct.pack("<II", _MI_MATRIX, len(body)) + body


def savemat_with_objects(path: str | os.PathLike[str] | io.BytesIO, variables: dict[str, Any]) -> None:
    """Like ``scipy.io.savemat(..., format="5")``, but :class:`MatlabClassObject` values
    (inside structs and cells) are written as MCOS objects MATLAB-style.

    Examples
    --------
    >>> import io, scipy.io, numpy as np
    >>> b = io.BytesIO()
    >>> savemat_with_objects(b, {"saved": {"x": 1.0, "sma": MatlabClassObject()}})
    >>> m = scipy.io.loadmat(io.BytesIO(b.getvalue()), squeeze_me=True, struct_as_record=False)
    >>> type(m["saved"].sma).__name__
    'MatlabOpaque'
    """
    import scipy.io

    objects: list[MatlabClassObject] = []

    def swap(value: Any) -> Any:
        if isinstance(value, MatlabClassObject):
            elem = opaque_element("", value.class_name, value.object_id)
            objects.append(value)
            return _placeholder(len(objects) - 1, len(elem) - 56)
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, np.ndarray) and value.dtype == object:
            out = np.empty(value.shape, dtype=object)
            for idx in np.ndindex(value.shape):
                out[idx] = swap(value[idx])
            return out
        return value

    top = {k: v for k, v in variables.items() if isinstance(v, MatlabClassObject)}
    swapped = {k: swap(v) for k, v in variables.items() if k not in top}
    buf = io.BytesIO()
    scipy.io.savemat(buf, swapped, format="5", do_compression=False, oned_as="row")
    data = buf.getvalue()
    for i, obj in enumerate(objects):
        elem = opaque_element("", obj.class_name, obj.object_id)
        ph = _placeholder(i, len(elem) - 56).tobytes()
        at = data.find(ph)
        start = at - 8 - 8 - 16 - 16 - 8  # data tag, name, dims, flags, element tag
        assert data[start : start + 4] == struct.pack("<I", _MI_MATRIX), "placeholder layout changed"
        assert len(elem) == 8 + struct.unpack("<I", data[start + 4 : start + 8])[0]
        data = data[:start] + elem + data[start + len(elem) :]
    for name, obj in top.items():  # a top-level object: scipy reads it under the name 'None'
        data += opaque_element(name, obj.class_name, obj.object_id)
    if objects or top:
        data += _function_workspace(len(objects) + len(top))
    if isinstance(path, io.BytesIO):
        path.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
