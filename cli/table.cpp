#include "cli/table.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

namespace rsvpd::cli {

void print_table(std::ostream& out, const TableRow& headers, const std::vector<TableRow>& rows) {
  std::vector<size_t> widths(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) widths[i] = headers[i].size();
  for (const TableRow& row : rows) {
    assert(row.size() == headers.size());
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  auto print_row = [&](const TableRow& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << '\n';
  };
  print_row(headers);
  for (const TableRow& row : rows) print_row(row);
}

void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, key.size());
  for (const auto& [key, value] : fields) {
    out << key << ':' << std::string(width - key.size() + 1, ' ') << value << '\n';
  }
}

std::string format_duration_s(int64_t seconds) {
  char text[64];
  const int64_t days = seconds / 86400;
  const int64_t hours = seconds % 86400 / 3600;
  const int64_t minutes = seconds % 3600 / 60;
  if (days > 0) {
    std::snprintf(text, sizeof text, "%lldd %02lldh %02lldm", static_cast<long long>(days),
                  static_cast<long long>(hours), static_cast<long long>(minutes));
  } else {
    std::snprintf(text, sizeof text, "%lldh %02lldm %02llds", static_cast<long long>(hours),
                  static_cast<long long>(minutes), static_cast<long long>(seconds % 60));
  }
  return text;
}

}  // namespace rsvpd::cli
