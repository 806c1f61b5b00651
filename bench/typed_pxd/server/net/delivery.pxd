# Typed declarations for delivery.py, read by bench/typed_cython.py only (never built into the server).
import cython
from server.net.conn cimport Conn

cdef class Delivery:
    cdef public dict conns
    cdef public object cluster
    cdef public object metrics
    cdef public object max_send_buffer

    cpdef send(self, conn, dict message)       # conn: a Conn or a cluster RemoteConn
    @cython.locals(conn=Conn, sent=Py_ssize_t, wire=bytes)
    cpdef deliver(self, list conns, codec, frame)
    @cython.locals(members=list, codecs=set)
    cpdef publish(self, room, str audience, dict message)

cpdef list _audience(room, str audience)
