# Included from http/CMakeLists.txt before rsvpd_http, which compiles RSVPD_OPENAPI_CPP in.
# docs/openapi.yaml, served at GET /api/v1/openapi.yaml, is compiled in from a source generated
# into the build directory at build time, and regenerated whenever the document changes.
set(RSVPD_OPENAPI_YAML ${PROJECT_SOURCE_DIR}/docs/openapi.yaml)
set(RSVPD_OPENAPI_CPP ${CMAKE_CURRENT_BINARY_DIR}/generated/openapi_document.cpp)
add_custom_command(
  OUTPUT ${RSVPD_OPENAPI_CPP}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${RSVPD_OPENAPI_YAML} -DOUTPUT=${RSVPD_OPENAPI_CPP}
    -DHEADER=http/detail/openapi_document.h -DNAMESPACE=rsvpd::http::detail
    -DFUNCTION=openapi_document -P ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake
  DEPENDS ${RSVPD_OPENAPI_YAML} ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake
  COMMENT "Embedding docs/openapi.yaml"
  VERBATIM)
