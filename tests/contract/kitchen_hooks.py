"""schemathesis hooks for the kitchen contract test (tests/tests/kitchen_contract.rs).

They drop the few generated cases whose wire form does not carry what schemathesis meant, so that a check would
judge a request the server never saw; they never turn a check off and never change what a case sends:
- a `multipart/form-data` part of a binary property (`format: binary`) is bytes, whatever they are: a "negative"
  value such as `{}` for `extras` goes out as a part holding the two bytes `{}`, which is a valid file part;
- a plain string part holds text: a non-string value such as `{}` goes out as its text, a valid string;
- `format: float` is a 32-bit float: a number whose magnitude is not zero but below the smallest 32-bit float
  (about 1.4e-45), or above the largest (about 3.4e38), has no 32-bit value; JSON Schema does not bound a
  number by its format, so schemathesis generates them.
One false report of schemathesis's stateful phase is dropped, see `filter_failure`.
"""

import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.generation.meta import TestPhase

# Smallest positive (subnormal) and largest finite 32-bit floats.
_F32_MIN = 1.401298464324817e-45
_F32_MAX = 3.4028234663852886e38

# Properties of each operation's body that are binary multipart parts: path -> {property: holds a list}.
_BINARY_PARTS = {"/attachments": {"file": False, "extras": True}}
# Plain string properties of multipart bodies: a non-string value goes out as its text, a valid string.
_TEXT_PARTS = {"/attachments": {"title", "form"}}
# Properties of a body that are `format: float`, wherever they are nested.
_FLOAT_PROPERTIES = {"weight"}


def _is_binary(value):
    return isinstance(value, (bytes, bytearray, str))


def _unrepresentable_float(value):
    if isinstance(value, dict):
        return any(
            (k in _FLOAT_PROPERTIES and isinstance(v, float) and v != 0 and not _F32_MIN <= abs(v) <= _F32_MAX)
            or _unrepresentable_float(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_unrepresentable_float(v) for v in value)
    return False


@schemathesis.hook
def filter_case(ctx, case):
    body = case.body
    if _unrepresentable_float(body):
        return False
    parts = _BINARY_PARTS.get(case.path)
    if parts and isinstance(body, dict) and case.meta is not None and case.meta.generation.mode == GenerationMode.NEGATIVE:
        for name, is_list in parts.items():
            if name not in body:
                continue
            value = body[name]
            if is_list and not isinstance(value, list):
                return False
            if not all(_is_binary(v) for v in (value if is_list else [value])):
                return False
        if any(name in body and not isinstance(body[name], str) for name in _TEXT_PARTS.get(case.path, ())):
            return False
    return True


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    """Keeps every failure but one kind of false report of the stateful phase: schemathesis draws a body in
    negative mode, then overwrites its fields with values taken from earlier calls (`pool_draws` into the body,
    `semantic_draws`) and itself describes the result as a "Positive test case"; a server that accepts it is
    right."""
    meta = case.meta
    return not (
        isinstance(failure, AcceptedNegativeData)
        and meta is not None
        and meta.phase.name == TestPhase.STATEFUL
        and (meta.phase.data.description or "").lower() == "positive test case"
        and (
            any(draw.location == "body" for draw in getattr(meta, "pool_draws", ()) or ())
            or bool(getattr(meta, "semantic_draws", ()))
        )
    )
