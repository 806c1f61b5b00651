# Typed declarations for metrics.py, read by bench/typed_cython.py only (never built into the server).
cdef class Tally:
    cdef public long long value

    cpdef inc(self, long long amount=*)

cdef class Timings:
    cdef public str name
    cdef public str doc
    cdef public tuple bounds
    cdef public list counts
    cdef public double total

    cpdef observe(self, double seconds)
