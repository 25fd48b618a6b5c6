// The recorder's indexed client_order_id (issue 11): a hostile id is kept in the
// payload but never in the indexed column, so it cannot make the store refuse an event.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "services/recorder.hpp"

using services::indexed_client_order_id;
using Id = std::optional<std::string>;

TEST_CASE("the recorder indexes an ordinary client_order_id as it is", "[services][recorder]") {
  for (const std::string& id : std::vector<std::string>{"c-1", "my order 7", "ORD:2024/01/02#5", std::string(64, 'x'), "é€😀-日本",
                               std::string(16, 'a') + "€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€"}) {
    INFO(id);
    CHECK(indexed_client_order_id(id) == Id(id));
  }
  CHECK(indexed_client_order_id(std::nullopt) == std::nullopt);
  CHECK(indexed_client_order_id(Id("")) == Id(""));
}

TEST_CASE("the recorder leaves a long, control-character or non-UTF-8 client_order_id out of the index",
          "[services][recorder]") {
  for (const std::string& id : std::vector<std::string>{std::string(65, 'x'), std::string(20'000, 'k'), std::string("a\0b", 3), "tab\there",
                               "new\nline", "del\x7f", "c1\xc2\x85", "bad\xff", "cut\xe2\x82", "overlong\xc0\xaf",
                               "surrogate\xed\xa0\x80", std::string(65, 'a') + "\xe2\x82\xac"}) {
    INFO(id.size() << " bytes");
    CHECK(indexed_client_order_id(id) == std::nullopt);
  }
}
