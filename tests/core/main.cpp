// Catch2 v2 main for the tests in this directory.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
