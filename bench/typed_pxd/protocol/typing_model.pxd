# Typed declarations for typing_model.py, read by bench/typed_cython.py only (never built into the server).
import cython

cpdef str as_typed(str keys)

cdef class TypingState:
    cdef public str passage
    cdef public Py_ssize_t pos
    cdef public list wrong
    cdef public Py_ssize_t keystrokes
    cdef public Py_ssize_t correct_keystrokes

    @cython.locals(passage=str, end=Py_ssize_t, i=Py_ssize_t, ch=Py_UCS4)
    cpdef Py_ssize_t feed(self, str keys) except -1
