# Typed declarations for ratelimit.py, read by bench/typed_cython.py only (never built into the server).
cdef class TokenBucket:
    cdef public double rate
    cdef public double burst
    cdef public double tokens
    cdef public double stamp

    cpdef bint take(self, double now, double cost=*) except -1
    cpdef bint ready(self, double now, double cost=*) except -1
