#include <catch2/catch.hpp>

#include "core/text.hpp"

TEST_CASE("one_line turns an error text into one line without control characters", "[core][text]") {
  CHECK(core::one_line("plain text") == "plain text");
  CHECK(core::one_line("connection failed: FATAL:  the database system is shutting down\n") ==
        "connection failed: FATAL:  the database system is shutting down");
  CHECK(core::one_line("a\r\n\tb") == "a b");
  CHECK(core::one_line(std::string("a\0b", 3)) == "a b");
  CHECK(core::one_line("a\x7f" "b") == "a b");
  CHECK(core::one_line("a\xc2\x85" "b") == "a b");       // U+0085 NEL, a C1 control
  CHECK(core::one_line("caf\xc3\xa9 \xe2\x82\xac") == "caf\xc3\xa9 \xe2\x82\xac");  // ordinary UTF-8 stays
  CHECK(core::one_line("\n\n") == "");
  CHECK(core::one_line("x \n y") == "x y");
}
