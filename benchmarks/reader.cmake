rsvpd_add_benchmark(reader_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/reader_bench.cpp
  LIBS rsvpd_reader rsvpd_shm)
