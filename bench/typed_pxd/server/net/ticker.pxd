# Typed declarations for ticker.py, read by bench/typed_cython.py only (never built into the server).
import cython

cdef class Ticker:
    cdef public object lobby
    cdef public object clock
    cdef public object flush
    cdef public object metrics
    cdef public double interval_s
    cdef public Py_ssize_t phase

    @cython.locals(started=double)
    cpdef step(self)
    cpdef round(self)
