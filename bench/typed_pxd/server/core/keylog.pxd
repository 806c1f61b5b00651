# Typed declarations for keylog.py, read by bench/typed_cython.py only (never built into the server).
import cython

cdef class KeyLog:
    cdef public object gaps         # array("H")
    cdef public object sizes        # array("B")
    cdef public bytearray keys
    cdef public dict big
    cdef public object last_ms
    cdef public Py_ssize_t count

    @cython.locals(data=bytes, size=Py_ssize_t)
    cpdef append(self, object race_ms, str keys)

cdef class Playback:
    cdef public KeyLog log
    cdef public Py_ssize_t index
    cdef public Py_ssize_t at
    cdef public object ms
    cdef public object next_ms
