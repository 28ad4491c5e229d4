# rsvpd_http_server: the HTTP/1.1 connection core and its two transports (io_uring on liburing,
# Boost.Asio on epoll). Included from http/CMakeLists.txt; no LMDB here (DESIGN.md §5).
add_library(rsvpd_http_server STATIC
  ${CMAKE_CURRENT_LIST_DIR}/response_sink.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/detail/asio_loop.cpp
  ${CMAKE_CURRENT_LIST_DIR}/detail/connection_core.cpp
  ${CMAKE_CURRENT_LIST_DIR}/detail/listener.cpp
  ${CMAKE_CURRENT_LIST_DIR}/detail/uring_loop.cpp
)
target_include_directories(rsvpd_http_server PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(rsvpd_http_server
  PUBLIC Boost::headers Threads::Threads
  PRIVATE PkgConfig::URING rsvpd_options)
# Asio's handler completion issues std::atomic_thread_fence, which GCC 12 flags under TSan
# (-Wtsan). The fence is Asio's, not ours; keep the rest of -Werror.
if(RSVPD_SANITIZE MATCHES "thread")
  target_compile_options(rsvpd_http_server PRIVATE -Wno-tsan)
endif()
