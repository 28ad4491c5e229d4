# rsvpd-load: the HTTP load driver (benchmarks/README.md). Boost.Asio on epoll, one io_context
# per thread; links rsvpd_http only for mint_token/load_or_create_secret.
add_executable(rsvpd-load
  ${CMAKE_CURRENT_LIST_DIR}/load_driver.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loadgen/api_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loadgen/driver.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loadgen/http_response.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loadgen/verify.cpp)
target_include_directories(rsvpd-load PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(rsvpd-load PRIVATE rsvpd_http Boost::program_options Threads::Threads
  rsvpd_options)

# rsvpd-sse-bench: N event-stream subscribers on one activity and the delay from an acknowledged
# RSVP to its event (compare/sse_fanout.sh). Shares the driver's blocking client and histogram.
add_executable(rsvpd-sse-bench
  ${CMAKE_CURRENT_LIST_DIR}/sse_subscribers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loadgen/api_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loadgen/http_response.cpp)
target_include_directories(rsvpd-sse-bench PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(rsvpd-sse-bench PRIVATE rsvpd_http Boost::program_options Threads::Threads
  rsvpd_options)

# The driver's pure parts (histogram, response parser) are unit-tested; the test mirrors the
# source path under tests/ but is registered here, with the rest of the driver.
if(RSVPD_BUILD_TESTS AND COMMAND rsvpd_add_test)
  find_package(GTest REQUIRED)
  rsvpd_add_test(loadgen_test LABEL http
    SOURCES ${PROJECT_SOURCE_DIR}/tests/benchmarks/loadgen_test.cpp
            ${CMAKE_CURRENT_LIST_DIR}/loadgen/http_response.cpp)
  # The driver's verification against a mock API, honest and broken (its negative controls).
  add_test(NAME loadgen_selftest COMMAND ${CMAKE_CURRENT_LIST_DIR}/loadgen/selftest.sh)
  set_tests_properties(loadgen_selftest PROPERTIES LABELS http
    ENVIRONMENT "BUILD_DIR=${CMAKE_BINARY_DIR}")
  # The same verification against the real daemon under load.
  add_test(NAME loadgen_against_rsvpd COMMAND ${CMAKE_CURRENT_LIST_DIR}/loadgen/against_rsvpd.sh)
  set_tests_properties(loadgen_against_rsvpd PROPERTIES LABELS binary
    ENVIRONMENT "BUILD_DIR=${CMAKE_BINARY_DIR}")
  # rsvpd-sse-bench's checks (ids, every probe seen by every subscriber) against the daemon, and a
  # stand-in server with broken ids as the negative control.
  add_test(NAME sse_bench_selftest COMMAND ${CMAKE_CURRENT_LIST_DIR}/loadgen/sse_selftest.sh)
  set_tests_properties(sse_bench_selftest PROPERTIES LABELS binary
    ENVIRONMENT "BUILD_DIR=${CMAKE_BINARY_DIR}")
endif()
