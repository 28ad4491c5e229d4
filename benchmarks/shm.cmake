rsvpd_add_benchmark(shm_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/shm_bench.cpp LIBS rsvpd_shm)
