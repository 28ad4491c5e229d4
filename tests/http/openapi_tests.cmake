# The OpenAPI document (docs/openapi.yaml): its lint (label "http") and the binary test that
# checks the daemon's routes against it (label "binary").

# Where scripts/install-deps.sh installs npm tools; both default to /opt/rsvpd-tools.
set(RSVPD_TOOLS_DIR "/opt/rsvpd-tools" CACHE PATH "Directory of the npm tools (redocly)")
add_test(NAME http_openapi_lint COMMAND ${PROJECT_SOURCE_DIR}/scripts/lint-openapi.sh)
# Warnings fail too: the document is kept free of them, and redocly exits 0 on warnings alone.
set_tests_properties(http_openapi_lint PROPERTIES
  LABELS http
  ENVIRONMENT "RSVPD_TOOLS_DIR=${RSVPD_TOOLS_DIR}"
  FAIL_REGULAR_EXPRESSION "You have [0-9]+ warnings?"
  TIMEOUT 120)

rsvpd_add_test(http_openapi_binary_test LABEL binary
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/openapi_binary_test.cpp
  LIBS rsvpd_http rsvpd_shm)
add_dependencies(http_openapi_binary_test rsvpd)
target_compile_definitions(http_openapi_binary_test PRIVATE
  RSVPD_OPENAPI_YAML_PATH="${PROJECT_SOURCE_DIR}/docs/openapi.yaml")
