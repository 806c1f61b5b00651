# Typed declarations for session.py, read by bench/typed_cython.py only (never built into the server).
import cython
from server.core.ratelimit cimport TokenBucket
from server.net.conn cimport Conn

cdef class Sessions:
    cdef public object deps
    cdef public dict conns
    cdef public object clock
    cdef public object typed         # Inputs.typed (inputs.pxd)

    @cython.locals(bucket=TokenBucket)
    cpdef bint admit(self, Conn conn) except -1
    cpdef received(self, Conn conn, payload)
    cpdef _handle_now(self, Conn conn, payload)
