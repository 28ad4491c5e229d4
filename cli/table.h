// Human output: left-aligned columns sized to their widest cell, like `systemctl list-units`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace rsvpd::cli {

using TableRow = std::vector<std::string>;

// REQUIRES: every row has headers.size() cells.
void print_table(std::ostream& out, const TableRow& headers, const std::vector<TableRow>& rows);

// "key: value" lines with the keys padded to one width.
void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

// "1h 02m 03s"-style duration for seconds.
std::string format_duration_s(int64_t seconds);

}  // namespace rsvpd::cli
