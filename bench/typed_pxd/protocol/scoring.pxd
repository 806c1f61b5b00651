# Typed declarations for scoring.py, read by bench/typed_cython.py only (never built into the server).
cpdef double wpm(double correct_chars, double elapsed_ms)
cpdef double accuracy(double correct_keystrokes, double total_keystrokes)
