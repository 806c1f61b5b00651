# Typed declarations for race.py, read by bench/typed_cython.py only (never built into the server).
import cython
from protocol.typing_model cimport TypingState
from server.core.keylog cimport KeyLog, Playback

# Racer and Ghost stay Python classes: race.py declares them @dataclass(slots=True), and
# Cython's dataclass support for cdef classes refuses slots= (a compile error), so
# they cannot become cdef classes without editing race.py.

cdef class Race:
    cdef public str race_id
    cdef public object text
    cdef public long long start_ms
    cdef public object countdown_s
    cdef public long long limit_ms
    cdef public str state
    cdef public dict racers
    cdef public Py_ssize_t finished_count
    cdef public bint changed
    cdef public bint roster_changed
    cdef public object final_race_ms
    cdef public list ghosts
    cdef public object _ghost_due

    cpdef long long race_ms(self, long long now_ms) except? -1
    @cython.locals(race_ms=cython.longlong, events=list)
    cpdef list advance(self, long long now_ms)
    cpdef bint ghosts_due(self, long long now_ms) except -1
    @cython.locals(playback=Playback, events=list)
    cpdef list _play_ghosts(self, long long race_ms)
    @cython.locals(typing=TypingState, race_ms=cython.longlong,
                   applied=Py_ssize_t, events=list)
    cpdef list input(self, Py_ssize_t slot, str keys, long long now_ms)
    cpdef dict _finish(self, racer, long long race_ms)
    cpdef object tick(self, long long now_ms)
    @cython.locals(race_ms=cython.longlong)
    cpdef dict snapshot(self, long long now_ms)
