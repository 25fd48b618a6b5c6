// Catch2 v2 main for marketdata_test; the tests are in reader_test.cpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
