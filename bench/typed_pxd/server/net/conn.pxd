# Typed declarations for conn.py, read by bench/typed_cython.py only (never built into the server).
from server.core.ratelimit cimport TokenBucket

cdef class Conn:
    cdef public object sessions      # Sessions (not cimported: session.pxd cimports Conn)
    cdef public object link
    cdef public object codec
    cdef public object player_id     # str | None
    cdef public object name
    cdef public TokenBucket bucket
    cdef public Py_ssize_t rejected
    cdef public TokenBucket join_bucket
    cdef public object ip
    cdef public bint dropped
    cdef public bint closing
    cdef public bint counted
    cdef public object queue
    cdef public object hello_timer
    cdef public object rating
    cdef public object account
    cdef public object generation

    cpdef frame(self, payload)
