# Suites of rsvpd_http_server; label "http" (they open sockets, so not "core").
rsvpd_add_test(http_server_test LABEL http
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/server_test.cpp
  LIBS rsvpd_http_server)
rsvpd_add_test(http_connection_core_test LABEL http
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/detail/connection_core_test.cpp
  LIBS rsvpd_http_server)
# Regression inputs found by fuzzing are read from the seed corpus (tests/fuzz/corpus).
target_compile_definitions(http_connection_core_test PRIVATE
  RSVPD_FUZZ_CORPUS_DIR="${PROJECT_SOURCE_DIR}/tests/fuzz/corpus")
