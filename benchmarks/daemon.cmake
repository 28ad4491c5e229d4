# Benchmarks of the durable engine (daemon/).
rsvpd_add_benchmark(store_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/store_bench.cpp
  LIBS rsvpd_daemon PkgConfig::LMDB)
rsvpd_add_benchmark(engine_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/engine_bench.cpp
  LIBS rsvpd_daemon)
