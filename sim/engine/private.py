"""A scenario's constants row as the compiled run's own copy, which the compiler can see nothing else writes.

The phases read the scenario's constants as ``k[kc.NAME]`` from one row of the constants matrix. Inside a loop
that also stores into the scenario's state arrays, the compiler cannot tell that those stores leave the row alone
(any two arrays might share memory), so it reads each constant again on every pass and recomputes everything
made of constants alone: the context gates of the scenario's fixed parameters (an ``exp`` and a division each),
once per provider or locality and month. :func:`private_copy` copies the row into the running function's own
stack frame, whose address no other array can hold: the compiler then reads each constant once, and moves what is
computed from constants and the scenario's fixed parameters out of the loops. A copy of the same numbers: every
result is the same, bit for bit.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from sim.model.constants import ROW_LENGTH

__all__ = ["private_copy"]


@intrinsic
def private_copy(typingctx, row):  # pragma: no cover - compiled
    """A copy of ``row`` (a C-contiguous float64 constants row of :data:`sim.model.constants.ROW_LENGTH`
    numbers) in the calling function's stack frame, as an array of the row's type. Valid while that function
    runs (it must not be returned or stored); each call overwrites the same frame space, so call it once per
    scenario."""
    if not (isinstance(row, types.Array) and row.ndim == 1 and row.dtype == types.float64 and row.layout == "C"):
        return None

    def codegen(context, builder, signature, args):
        source = context.make_array(signature.args[0])(context, builder, args[0])
        double = ir.DoubleType()
        frame = cgutils.alloca_once(builder, double, size=ROW_LENGTH, name="private_constants")
        # a fixed count (the row's length is fixed by the registry), so the copy is one straight block
        for n in range(ROW_LENGTH):
            index = ir.Constant(ir.IntType(64), n)
            builder.store(builder.load(builder.gep(source.data, [index])), builder.gep(frame, [index]))
        copy = context.make_array(signature.return_type)(context, builder)
        itemsize = context.get_constant(types.intp, 8)
        context.populate_array(copy, data=frame, shape=[context.get_constant(types.intp, ROW_LENGTH)],
                               strides=[itemsize], itemsize=itemsize, meminfo=None)
        return copy._getvalue()

    return row(row), codegen
