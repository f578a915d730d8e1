"""Getting a scenario's lookup tables into the processor's cache before the compiled month needs them.

The compiled run (:mod:`sim.engine.batch`) runs a batch one scenario after another. A batch of a
thousand default scenarios does not fit in a core's own cache, so the care-pathway walk, which looks up
its alias tables, cross-sector pairs and trust at random places, would wait on memory for many of its
lookups. While one scenario runs, :func:`prefetch_row` asks the processor to fetch the next one's rows of
those arrays. It is a hint: it changes no number, and an address the processor cannot fetch is ignored.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: Bytes in a cache line (64 on x86-64 and most ARM cores; with longer lines some hints are redundant).
CACHE_LINE = 64
#: Most bytes prefetched of one array's row: with 100 providers and 50 localities a scenario's tables run to
#: hundreds of kB, and fetching all of them at once would push the running scenario out of the cache.
ROW_LIMIT = 16 * 1024


@intrinsic
def _prefetch(typingctx, array, offset):  # pragma: no cover - compiled
    """LLVM's ``prefetch`` hint for the byte at ``offset`` into ``array``'s data (for reading, keep in every
    cache level). Every LLVM numba has shipped with accepts the ``.p0i8`` name."""

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        hint = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]), "llvm.prefetch.p0i8")
        address = builder.gep(builder.bitcast(data, byte), [args[1]])
        builder.call(hint, [address, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(array, types.intp), codegen


@njit(inline="always")
def prefetch_row(array, s):  # pragma: no cover - compiled
    """Prefetch row ``s`` (along the first axis) of the C-contiguous ``array``, a cache line at a time, at most
    :data:`ROW_LIMIT` bytes. Inlined at numba's level into the loop that calls it (a few instructions per
    array type; a loop over a tuple of arrays, numba's ``literal_unroll``, cost 0.4 s of a cold first compile)."""
    length = array.strides[0]
    for offset in range(s * length, s * length + min(length, ROW_LIMIT), CACHE_LINE):
        _prefetch(array, offset)
