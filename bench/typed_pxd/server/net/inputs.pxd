# Typed declarations for inputs.py, read by bench/typed_cython.py only (never built into the server).
import cython

cdef class Inputs:
    cdef public object lobby
    cdef public object clock
    cdef public object flush
    cdef public object live
    cdef public object metrics
    cdef public object delivery

    @cython.locals(started=double)
    cpdef typed(self, conn, message, str keys, rid=*)
