// Catch2 v2 main for domain_tests; the test cases live in the *_test.cpp files.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
