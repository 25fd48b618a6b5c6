#include "core/text.hpp"

namespace core {

std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool replaced = false;  // the previous character written was a replacement space
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F &&
                    static_cast<unsigned char>(s[i + 1]) >= 0x80;
    if (c < 0x20 || c == 0x7F || c1) {
      if (c1) ++i;
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      replaced = true;
      continue;
    }
    if (c == ' ' && replaced) continue;  // part of the run a replacement made
    out.push_back(static_cast<char>(c));
    replaced = false;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace core
