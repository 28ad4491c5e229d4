# Suites of rsvpd_http_server; label "http" (they open sockets, so not "core").
rsvpd_add_test(http_server_test LABEL http
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/server_test.cpp
  LIBS rsvpd_http_server)
rsvpd_add_test(http_connection_core_test LABEL http
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/detail/connection_core_test.cpp
  LIBS rsvpd_http_server)
