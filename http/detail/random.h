// Random bytes from the kernel (getrandom), for secrets and identifiers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "daemon/status.h"

namespace rsvpd::http::detail {

// Fills `out` with bytes from getrandom(2), blocking until the kernel pool is initialised.
// Errors: kIoError when getrandom fails with anything but EINTR (e.g. ENOSYS); `out` is then
// unspecified. Thread-safe.
Status fill_random(std::span<std::uint8_t> out);

}  // namespace rsvpd::http::detail
